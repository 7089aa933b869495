"""tinygen sweep: models x boards x build options, run here or on a Dask cluster, one report."""
