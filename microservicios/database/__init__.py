"""Each service's own database: SQLite in class, PostgreSQL in a deployment, behind one
async session interface; and what to say when it cannot serve."""
