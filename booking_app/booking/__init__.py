"""Book-a-lesson pages, the booking page and the student's and instructor's booking list."""
