"""Endpoints that speak other tools' formats, so existing scripts work by changing one URL."""
