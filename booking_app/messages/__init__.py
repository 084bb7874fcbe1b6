"""Messages inside each booking: the thread page, read markers, the unread banner and glow helpers."""
