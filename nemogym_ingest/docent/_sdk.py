"""Docent's SDK, imported in this one place for the modules of `nemogym_ingest.docent` that
use it: without the optional extra, the `ImportError` names it."""

try:
    import requests
    import urllib3
    from docent import Docent
    from docent.data_models import AgentRun as DocentAgentRun
    from docent.data_models.transcript import TranscriptGroup as DocentTranscriptGroup
    from docent.sdk._client_util import serialize_agent_run
    from docent.sdk.client import MAX_AGENT_RUN_PAYLOAD_BYTES
except ModuleNotFoundError as error:
    raise ImportError(
        f"nemogym_ingest.docent needs Docent's SDK ({error}): pip install 'docent==0.1.88' "
        "(the docent extra; in a checkout, uv sync installs it)"
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
