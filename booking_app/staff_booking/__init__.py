"""Staff booking a student in: the "Book a student" form reached from the schedule and the students' pages."""
