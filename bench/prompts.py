"""Chat prompts of realistic length for the benchmarks: 60-170 tokens with the chat template."""

from __future__ import annotations

SYSTEMS = [
    "You are Confab, a helpful assistant. Answer the question directly, keep the answer short "
    "and practical, use plain words, avoid long lists, and say so when you are not sure.",
    "You are Confab, a friendly assistant for everyday questions. Answer clearly, use short "
    "paragraphs, prefer concrete steps to general advice, mention one common mistake to avoid, "
    "and say so when you are not sure about something.",
    "You are a patient tutor for secondary-school students. Explain ideas step by step, give "
    "one small example for each idea, avoid jargon, and finish with a question that checks "
    "whether the student understood.",
]

QUESTIONS = [
    "How do I make a simple sourdough starter at home?",
    "What is the difference between a list and a tuple in Python?",
    "Can you explain why the sky is blue?",
    "Give me three ideas for a rainy Sunday afternoon with kids.",
    "What should I check before buying a used bicycle?",
    "How does compound interest work, with a small example?",
    "Summarize the causes of the French Revolution.",
    "Write a short, polite email asking my landlord to fix the heating.",
    "What are good habits for keeping a houseplant alive?",
    "Explain what a database index is and when it helps.",
    "How can I improve my sleep without medication?",
    "What is photosynthesis, in simple words?",
    "Plan a three-day trip to Lisbon on a small budget.",
    "How do vaccines train the immune system?",
    "What is the difference between weather and climate?",
    "Suggest a vegetarian dinner I can cook in twenty minutes.",
]

HISTORY = [
    ("user", "I am learning to cook and I keep burning onions when I fry them."),
    (
        "assistant",
        "Use medium heat, a little more oil, and stir often. Adding a pinch of salt early draws "
        "out moisture so they soften before they brown.",
    ),
    ("user", "Thanks, that worked. Should I use butter or oil for that?"),
    (
        "assistant",
        "Oil copes with heat better; butter adds flavour but burns sooner.",
    ),
]


def conversations(n: int) -> list[list[dict[str, str]]]:
    """n conversations cycling through system prompts, questions and an optional earlier turn."""
    out = []
    for i in range(n):
        messages = [{"role": "system", "content": SYSTEMS[i % len(SYSTEMS)]}]
        # Half the conversations carry one or two earlier exchanges.
        earlier = HISTORY[: 2 * (i % 4 // 2 + 1)] if i % 2 else []
        messages += [{"role": role, "content": text} for role, text in earlier]
        messages.append({"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]})
        out.append(messages)
    return out
