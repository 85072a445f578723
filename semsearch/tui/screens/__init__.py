"""Dialogs over the main screen: help, ingest, collection picker."""
