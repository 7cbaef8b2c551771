"""Topics: named keyword sets that documents and changes are tagged with.

The built-in ones are the 14 representative technology categories BIS named in its advance
notice of proposed rulemaking on emerging technologies (83 FR 58201, November 19, 2018);
``[[topics]]`` in config.toml adds the user's own. A text matches a topic when it contains
any of its keywords as whole words, case and typography aside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from crawler.config import Config
from crawler.parse.text import fold


@dataclass(frozen=True)
class Topic:
    name: str
    title: str
    keywords: tuple[str, ...]


EMERGING_TECHNOLOGIES = (
    Topic(
        "biotechnology",
        "Biotechnology",
        (
            "biotechnology",
            "nanobiology",
            "synthetic biology",
            "genomic engineering",
            "genetic engineering",
            "gene editing",
            "neurotech",
            "neurotechnology",
        ),
    ),
    Topic(
        "ai",
        "Artificial intelligence and machine learning",
        (
            "artificial intelligence",
            "machine learning",
            "neural network",
            "neural networks",
            "deep learning",
            "reinforcement learning",
            "computer vision",
            "natural language processing",
            "speech recognition",
            "AI model",
            "AI models",
            "AI chipsets",
            "model weights",
        ),
    ),
    Topic(
        "pnt",
        "Position, navigation and timing",
        (
            "position, navigation, and timing",
            "positioning, navigation",
            "PNT",
            "navigation and timing",
        ),
    ),
    Topic(
        "microprocessors",
        "Microprocessor technology",
        (
            "microprocessor",
            "microprocessors",
            "systems-on-chip",
            "system-on-chip",
            "stacked memory",
            "integrated circuits",
            "semiconductor",
            "semiconductors",
        ),
    ),
    Topic(
        "advanced-computing",
        "Advanced computing",
        (
            "advanced computing",
            "supercomputer",
            "supercomputers",
            "memory-centric logic",
            "high-performance computing",
            "data center",
            "datacenter",
            "3A090",
            "4A090",
        ),
    ),
    Topic(
        "data-analytics",
        "Data analytics",
        ("data analytics", "visualization", "automated analysis", "context-aware computing"),
    ),
    Topic(
        "quantum",
        "Quantum information and sensing",
        (
            "quantum",
            "qubit",
            "qubits",
            "quantum computing",
            "quantum computer",
            "quantum encryption",
            "quantum sensing",
            "4A906",
        ),
    ),
    Topic(
        "logistics",
        "Logistics technology",
        (
            "mobile electric power",
            "total asset visibility",
            "distribution-based logistics",
            "logistics technology",
        ),
    ),
    Topic(
        "additive-manufacturing",
        "Additive manufacturing",
        ("additive manufacturing", "3D printing", "3D printer", "3D printers"),
    ),
    Topic(
        "robotics",
        "Robotics",
        (
            "robotics",
            "robot",
            "robots",
            "micro-drone",
            "swarming",
            "self-assembling",
            "molecular robotics",
            "smart dust",
        ),
    ),
    Topic(
        "brain-computer-interfaces",
        "Brain-computer interfaces",
        (
            "brain-computer interface",
            "brain-computer interfaces",
            "neural-controlled",
            "mind-machine interface",
            "brain-machine interface",
            "direct neural interface",
        ),
    ),
    Topic(
        "hypersonics",
        "Hypersonics",
        ("hypersonic", "hypersonics", "scramjet", "thermal protection systems"),
    ),
    Topic(
        "advanced-materials",
        "Advanced materials",
        (
            "advanced materials",
            "adaptive camouflage",
            "functional textiles",
            "biomaterials",
            "metamaterials",
        ),
    ),
    Topic(
        "advanced-surveillance",
        "Advanced surveillance technologies",
        (
            "surveillance",
            "facial recognition",
            "face recognition",
            "faceprint",
            "voiceprint",
            "voice recognition",
            "biometric",
        ),
    ),
)


def all_topics(config: Config) -> tuple[Topic, ...]:
    """The built-in topics, then the user's ``[[topics]]`` (a user topic with a built-in
    name replaces it)."""
    mine = {t.name: Topic(t.name, t.name, t.keywords) for t in config.topics}
    builtin = tuple(mine.pop(t.name, t) for t in EMERGING_TECHNOLOGIES)
    return builtin + tuple(mine.values())


@cache
def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    words = sorted((re.escape(fold(k).lower()) for k in keywords), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(words) + r")(?![\w-])")


def tag(text: str, topics: tuple[Topic, ...]) -> tuple[str, ...]:
    """The names of the topics ``text`` matches, in topic order."""
    plain = fold(text).lower()
    return tuple(t.name for t in topics if t.keywords and _pattern(t.keywords).search(plain))
