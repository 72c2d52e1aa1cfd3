"""The rules in force: rule-set versions and their activation, and the decisions the engine
(``app.policy``) makes for a node, with the facts gathered from the database."""
