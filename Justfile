# Daily recipes. Each is a thin wrapper: the command it runs works the same without just.
#   just test           every suite that runs on this machine (the embedded labs, the harness, repository checks)
#   just lab            the main job on the embedded lab: destroy/recreate cycles and every suite
#   just cycles dev     destroy/recreate cycles on one environment
#   just promote dev    the promotion verdict from the evidence and the JUnit report
#   just report dev     the release report (Markdown + HTML)
#   just doctor dev     the preflight: tools, files, APIs
#   just up lab         bring a lab environment up by hand (vixens destroy lab --confirm lab takes it down)

# Cargo runs `vixens` from this workspace, so recipes work before anything is installed.
vixens := "cargo run --quiet -p vixens --"

default:
    @just --list

# Every suite that runs on this machine, with the CI profile (JUnit in target/nextest/ci/junit.xml).
test *ARGS:
    cargo nextest run --profile ci {{ARGS}}

# The main job on the embedded lab: provisions it with terraform, runs every suite, tears it down.
lab *ARGS:
    cargo nextest run -p lab {{ARGS}}

# COUNT destroy/recreate cycles in a row on ENV (5 by default, as promotion requires), each its own JUnit entry and ledger record.
# The promotion profile is fail-fast on purpose: with --no-fail-fast, a stress run whose last cycle passed exits 0
# even when an earlier one failed (vixens promote still refuses it: it reads every iteration in the JUnit).
cycles ENV COUNT="5" *ARGS:
    cargo nextest run -p {{ENV}} --profile promotion --stress-count {{COUNT}} -E 'test(recreate_cycle)' {{ARGS}}

# The promotion verdict for ENV: exit 0 PASS, 1 FAIL.
promote ENV *ARGS:
    {{vixens}} promote {{ENV}} {{ARGS}}

# The release report for ENV (target/vixens/report/ENV.md and ENV.html).
report ENV *ARGS:
    {{vixens}} report {{ENV}} {{ARGS}}

# The preflight for ENV: tools and versions, configuration files, Kubernetes and Talos APIs.
doctor ENV:
    {{vixens}} doctor {{ENV}}

# Bring an on-demand environment (lab, lab-ha) up with its terraform root, as the suites do
# (vixens finds vixens-lab beside itself, or builds it).
up ENV:
    {{vixens}} up {{ENV}}

# Take a running environment's credentials from its terraform outputs again and mint a new
# read-only token (what the harness does after every apply)
credentials ENV:
    {{vixens}} credentials {{ENV}}
