"""Stage logic: plain Python over records, one package per kind of step."""
