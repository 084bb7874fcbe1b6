"""Page models: one function per page returns the data its template shows, as a dataclass."""
