"""What a page says and how: its layout (roles, tables, sections) and the chat turns of a sample."""
