"""Each instructor's students and the lesson notes staff write."""
