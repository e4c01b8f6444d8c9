"""Planning: what the user asked (the plan) and the scenario it runs, validated."""
