"""`make bench`: the product beside reference implementations, measured in one run (see README.md)."""
