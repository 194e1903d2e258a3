"""Kept for code that imports the HTTP names from here: the adapter kit is :mod:`govhall_sdk.rest`."""
from .rest.base import RESTAdapter
from .rest.cursor import iso_utc
from .rest.retry import IDEMPOTENT_METHODS, RETRY_STATUSES, HTTPError, RetryPolicy, parse_retry_after

__all__ = ["HTTPError", "RESTAdapter", "RetryPolicy", "parse_retry_after", "iso_utc", "RETRY_STATUSES",
           "IDEMPOTENT_METHODS"]
