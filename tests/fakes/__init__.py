"""Reusable fakes of remote systems for tests (loopback HTTP only)."""
