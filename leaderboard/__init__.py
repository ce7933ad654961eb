"""The leaderboard site's templates and static assets, installed as ``evoxtral_bench.leaderboard.assets``."""
