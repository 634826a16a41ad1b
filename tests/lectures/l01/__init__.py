"""Lecture 1's tests, one file per topic (a package, so that another lecture's test_<topic>.py of the same
name does not collide)."""
