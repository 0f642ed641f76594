"""What a job leaves behind: Parquet shards and the manifest, exports, the report."""
