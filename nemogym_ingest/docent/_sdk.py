"""Docent's SDK, imported in this one place for the modules of `nemogym_ingest.docent` that
use it: without the optional extra, the `ImportError` says to install it (and names the
missing module last)."""

try:
    import requests
    import urllib3
    from docent import Docent
    from docent.data_models import AgentRun as DocentAgentRun
    from docent.data_models.transcript import TranscriptGroup as DocentTranscriptGroup
    from docent.sdk._client_util import serialize_agent_run
    from docent.sdk.client import MAX_AGENT_RUN_PAYLOAD_BYTES
except ModuleNotFoundError as error:
    raise ImportError(  # settings.missing_extra's words: this module imports nothing of ours
        "nemogym_ingest.docent needs the docent extra (Docent's SDK, docent==0.1.88): pip "
        "install 'nemogym-ingest[docent]' (in a checkout: pip install '.[docent]', or uv "
        f"sync); not installed: {error.name}"
    ) from error

__all__ = [
    "MAX_AGENT_RUN_PAYLOAD_BYTES",
    "Docent",
    "DocentAgentRun",
    "DocentTranscriptGroup",
    "requests",
    "serialize_agent_run",
    "urllib3",
]
