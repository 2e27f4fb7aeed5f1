"""dumpsed's Django helper: dumpsed rules read from a project's migration files.

Run as ``python -m dumpsed_django`` (see ``__main__.py`` and the README).
"""
