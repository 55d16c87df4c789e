"""Open data: the published reviews as downloadable files, and their page."""
