"""The school year (学年): graduation and completion, the promotion batch, enrollment, data-quality
verification campaigns."""
