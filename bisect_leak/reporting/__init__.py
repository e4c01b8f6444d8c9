"""Reporting: terminal, JSON, Markdown evidence and plots of an outcome."""
