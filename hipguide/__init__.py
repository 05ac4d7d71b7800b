"""HipGuide engine: knowledge loading and validation, conflicts, assessment, plan, exports, editorial writes.

Plain Python with typed models; no Streamlit import anywhere in this package.
"""

from .assessment import Assessment, AssessmentError, assess
from .knowledge import DEFAULT_KNOWLEDGE_DIR, KnowledgeBase, load_knowledge
from .yamlio import KnowledgeError, Problem

__all__ = [
    "DEFAULT_KNOWLEDGE_DIR",
    "Assessment",
    "AssessmentError",
    "KnowledgeBase",
    "KnowledgeError",
    "Problem",
    "assess",
    "load_knowledge",
]
