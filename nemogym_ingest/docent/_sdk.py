"""Docent's SDK, imported in this one place for the modules of `nemogym_ingest.docent` that
use it: without the optional extra, the `ImportError` says to install it (and names the
missing module last)."""

from .settings import missing_extra

try:
    import requests
    import urllib3
    from docent import Docent
    from docent.data_models import AgentRun as DocentAgentRun
    from docent.sdk._client_util import serialize_agent_run
    from docent.sdk.client import MAX_AGENT_RUN_PAYLOAD_BYTES
except ModuleNotFoundError as error:
    raise ImportError(missing_extra("nemogym_ingest.docent", error.name)) from error

__all__ = [
    "MAX_AGENT_RUN_PAYLOAD_BYTES",
    "Docent",
    "DocentAgentRun",
    "requests",
    "serialize_agent_run",
    "urllib3",
]
