"""fokus: the working tool of a §82a/§82b unit. All logic lives in this package."""
