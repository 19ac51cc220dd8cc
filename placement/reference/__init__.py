"""Reference geography: regions, counties and municipalities with centroids."""
