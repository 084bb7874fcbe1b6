"""Links sent to people that act on a booking or open a book page: action links in mails, personal booking links."""
