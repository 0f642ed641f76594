"""Writers put records on disk: sharded Parquet with a manifest."""
