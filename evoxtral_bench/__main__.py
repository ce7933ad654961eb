from evoxtral_bench.cli.app import run

run()
