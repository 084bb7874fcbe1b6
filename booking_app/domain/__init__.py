"""Pure booking rules: slots, booking states and policies, with no framework imports."""
