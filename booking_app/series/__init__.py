"""Weekly lesson (series) pages: the preview before sending, the series page and its one-step actions."""
