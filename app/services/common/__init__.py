"""Shared by every use case: who acts (Actor), the transaction rule, the working-day calendar."""
