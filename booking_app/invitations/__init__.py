"""Invitation pages: staff invite people (one by one or by CSV), the invitee accepts from the mailed link."""
