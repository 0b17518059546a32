"""The fixed sanity set: plain questions and good answers that any version must still favour.

Its loss is measured before and after training; a version whose loss here rises beyond the
promotion gate's tolerance has forgotten something general, whatever it learnt.
"""

from __future__ import annotations

SANITY_SET: tuple[tuple[str, str], ...] = (
    ("What is the capital of France?", "The capital of France is Paris."),
    ("What is 2 + 2?", "2 + 2 = 4."),
    ("How many days are there in a week?", "There are seven days in a week."),
    ("What do bees make?", "Bees make honey."),
    ("Name a primary colour.", "Red is a primary colour."),
    ("Translate 'thank you' into Spanish.", "'Thank you' in Spanish is 'gracias'."),
    (
        "Write a Python function that returns the square of x.",
        "def square(x):\n    return x * x",
    ),
    ("Say hello politely.", "Hello! How can I help you today?"),
)


def sanity_messages() -> list[list[dict[str, str]]]:
    return [
        [{"role": "user", "content": q}, {"role": "assistant", "content": a}] for q, a in SANITY_SET
    ]
