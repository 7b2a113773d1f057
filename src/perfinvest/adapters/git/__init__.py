"""git: checkpoint commits (rule 10) and the git history of rule 8."""
