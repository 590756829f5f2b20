"""The server-rendered web pages (Jinja2 templates, one stylesheet, no build step)."""
