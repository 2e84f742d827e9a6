#compdef strata

__strata_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__strata_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __strata_complete "${completions[@]:0:-1}"
    fi
}

__strata_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_strata() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'init:Create an empty store (.strata/) in DIR (default: the current folder).'
            'status:Show files added, modified, deleted or renamed since HEAD.'
            'commit:Record a snapshot of the workspace (or of PATHs) on the current branch.'
            'log:List commits reachable from REF (default HEAD), newest first.'
            'show:Show a commit and the files it changed against its first parent; REV:PATH shows a file, folder or table.'
            'ls:List the entries of a folder in a commit: type, mode, size, sha256, path.'
            'cat:Stream the bytes of a file in a commit to stdout (verified against its sha256).'
            'diff:File-level changes between two commits, or between a commit (default HEAD) and the workspace.'
            'branch:List branches, create NAME at START (default HEAD), or delete one with -d.'
            'switch:Switch to branch NAME (with -c, create it at HEAD first).'
            'tag:List tags, create NAME at REF (default HEAD), or delete one with -d.'
            'checkout:Make the workspace match REF and move HEAD there; with -- PATH..., restore only those paths.'
            'reset:Move the current branch to REF (rollback); --hard also makes the workspace match.'
            'reflog:Show how refs moved (default: HEAD), newest first; '\''all'\'' lists every ref.'
            'fsck:Re-hash every stored object and check every reachable commit and tree.'
            'config:Get, set (KEY VALUE), unset (--unset KEY) or list store settings such as user.name.'
            'prune:Forget old commits'\'' data under a retention policy (their history stays); gc then reclaims the space.'
            'gc:Delete the objects that no live commit reaches (after '\''strata prune'\''), never touching packs younger than the grace period.'
            'retention:Save, show and remove named retention policies that '\''strata prune'\'' applies by default.'
            'repro:Bring the pipeline of Pipeline.swift up to date: run exactly the stages whose command, inputs, parameters or environment changed.'
            'stages:List the stages of Pipeline.swift in graph order with their state (up to date or why they would run).'
            'dag:Print the stage graph of Pipeline.swift (text, Graphviz dot or Mermaid).'
            'lineage:OpenLineage events and PROV-O documents recorded for every commit and run.'
            'runs:List recorded runs: commits, pipeline runs and stage runs, newest first.'
            'reproduce:Re-run a recorded run from its recorded inputs in a scratch folder and compare every output'\''s sha256.'
            'catalog:Write a DCAT 3 / DCAT-AP 3 catalogue (JSON-LD) of the published datasets, with a Markdown page per dataset.'
            'hooks:Install the hooks that block a commit or publish when lineage or versioning artefacts are missing.'
            'remote:Manage remotes: shared folders (file:///path) and S3-compatible storage (s3://bucket/prefix).'
            'push:Send branches or tags to a remote: only what it lacks, then each ref by compare-and-swap.'
            'fetch:Download a remote'\''s branches and tags into remote-tracking refs (origin/main).'
            'pull:Fetch, then fast-forward the checked-out branch and the workspace to its upstream.'
            'clone:Create a store from a remote and check out its default branch.'
            'table:Declare tables (format, key columns) and diff them row by row.'
            'blame:For each row of a table, the commit that last added or changed it, and the stage run that wrote it.'
            'merge:Merge a branch or revision into the current branch, file by file and row by row for declared tables.'
            'resolve:Resolve a conflicted path of the merge in progress: a whole file, or one row of a table.'
            'merge-base:Print the best common ancestor of two revisions (--all: every one).'
            'serve:Serve namespaces of a server root to Strata clients and over a JSON API, with tokens, roles and protected branches.'
            'namespace:Manage a server'\''s namespaces (separate stores with separate policies, e.g. dev and dist).'
            'user:Manage a server'\''s users.'
            'token:Manage a server'\''s tokens (shown once, stored as salted hashes).'
            'policy:Show or set who may do what: roles (reader, writer, maintainer, admin) per branch pattern.'
            'protect:Protect branches on a server: no force-move, no delete; optionally only a maintainer'\''s merges, only complete lineage.'
            'audit:Read and verify a server'\''s hash-chained audit log; put a ref back where an entry found it.'
            'promote:Publish a commit to another remote'\''s branch (dev → dist), recorded in lineage as a promotion.'
            'check:Verify a commit'\''s lineage, reproduce named stages, and record the passed check on a remote.'
            'mcp:Serve this store'\''s tools to an agent over MCP on stdin and stdout (the Model Context Protocol).'
            'ui:Browse this store in a web browser: commits, files, table diffs, lineage graphs, the pipeline and the catalogue.'
            'site:Write the catalogue, dataset, lineage and run pages of a commit as a static HTML site (SVG graphs, relative links).'
            'watch:Start, stop or show the file-system monitor that lets status look only at what changed.'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        init|status|commit|log|show|ls|cat|diff|branch|switch|tag|checkout|reset|reflog|fsck|config|prune|gc|retention|repro|stages|dag|lineage|runs|reproduce|catalog|hooks|remote|push|fetch|pull|clone|table|blame|merge|resolve|merge-base|serve|namespace|user|token|policy|protect|audit|promote|check|mcp|ui|site|watch|help)
            "_strata_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_init() {
    local -i ret=1
    local -ar arg_specs=(
        ':directory:'
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors.]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_status() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--json[Print JSON (see docs/reference/json.md).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_commit() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '(--message -m)'{--message,-m}'[Commit message.]:message:'
        '--author[Author as "Name <email>" (default\: STRATA_AUTHOR, then config user.name/user.email).]:author:'
        '--date[Commit time, ISO-8601 (e.g. 2026-01-05T12\:00\:00Z).]:date:'
        '--allow-empty[Record a commit even when nothing changed.]'
        '--json[Print JSON.]'
        '--require-lineage[Fail when the lineage events cannot be delivered (default\: they wait in the store).]'
        '--no-verify[Do not run the installed pre-commit hook (.strata/hooks/pre-commit).]'
        '*:paths:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_log() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':ref:'
        '-n[Show at most N commits.]:n:'
        '--oneline[One line per commit.]'
        '--json[Print JSON.]'
        '--graph[Draw the history as a text graph (children before parents).]'
        '--first-parent[Follow only first parents\: the branch'\''s own commits, each merge as one entry.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_show() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':ref:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_ls() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':ref:'
        ':path:'
        '(--recursive -r)'{--recursive,-r}'[List every file below, recursively.]'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_cat() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':ref\:path:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_diff() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':first:'
        ':second:'
        '--stat[Summarise\: paths with size changes and totals.]'
        '--json[Print JSON.]'
        '--rows[Also diff changed tables (csv, tsv, jsonl, or declared) row by row; see '\''strata table diff'\''.]'
        '*:paths:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_branch() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '-d[Delete the branch NAME.]'
        '--json[Print JSON.]'
        ':name:'
        ':start:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_switch() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '-c[Create the branch at HEAD and switch to it.]'
        '(--force -f)'{--force,-f}'[Discard uncommitted changes that would be overwritten.]'
        ':name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_tag() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '-d[Delete the tag NAME.]'
        '(--message -m)'{--message,-m}'[Annotate the tag with a message.]:message:'
        '--json[Print JSON.]'
        ':name:'
        ':ref:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_checkout() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '(--force -f)'{--force,-f}'[Discard uncommitted changes that would be overwritten.]'
        ':ref:'
        '*:paths:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_reset() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--hard[Also overwrite the workspace with REF'\''s files (uncommitted changes are lost).]'
        ':ref:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_reflog() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':ref:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_fsck() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_config() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--unset[Remove KEY.]'
        ':key:'
        ':value:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_prune() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--keep-last[Keep the newest N commits.]:keep-last:'
        '--keep-hourly[Keep the newest commit of each of the last N hours that have commits ('\''unlimited'\'' for all).]:n:'
        '--keep-daily[… of each of the last N days.]:n:'
        '--keep-weekly[… of each of the last N ISO weeks.]:n:'
        '--keep-monthly[… of each of the last N months.]:n:'
        '--keep-yearly[… of each of the last N years.]:n:'
        '--keep-within[Keep every commit newer than now minus DURATION (36h, 30d, 2w, 1y6m).]:duration:'
        '--keep-within-hourly[Keep the newest commit of each hour within DURATION.]:duration:'
        '--keep-within-daily[Keep the newest commit of each day within DURATION.]:duration:'
        '--keep-within-weekly[Keep the newest commit of each week within DURATION.]:duration:'
        '--keep-within-monthly[Keep the newest commit of each month within DURATION.]:duration:'
        '--keep-within-yearly[Keep the newest commit of each year within DURATION.]:duration:'
        '*--keep-tag[Keep commits with a tag matching PATTERN (repeatable).]:pattern:'
        '*--branch[Apply only to branches matching GLOB (repeatable; default every branch).]:glob:'
        '--now[Evaluate windows from this instant instead of now (ISO-8601).]:iso-8601:'
        '--time-zone[Time zone in which days, weeks, months and years are cut (IANA name).]:time-zone:'
        '--reflog-expire[Reflog entries older than this protect nothing.]:reflog-expire:'
        '--dry-run[Show the plan; forget nothing.]'
        '--undo[Restore every commit forgotten by prunes that gc has not swept yet.]'
        '--json[Print JSON.]'
        '--remote[Apply the policy to this remote'\''s branches and tags instead ('\''strata gc --remote'\'' reclaims).]:name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_gc() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--grace[Never delete objects written less than this long ago (e.g. 1h, 0s).]:grace:'
        '--dry-run[Report what would be deleted; delete nothing.]'
        '--force[Also delete pack files the index does not know (past the grace period). Without it they are kept\: they may be all that is left of history whose index was lost. Run '\''strata fsck'\'' first.]'
        '--json[Print JSON.]'
        '--lease[With --remote\: how long the gc lease lasts if this gc is killed (others wait that long).]:lease:'
        '--remote[Collect on this remote instead, under its gc lease (safe while others push).]:name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_retention() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'set:Save policy NAME (replacing one of that name).'
            'show:List saved policies.'
            'rm:Remove policy NAME.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        set|show|rm)
            "_strata_retention_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_retention_set() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':name:'
        '--keep-last[Keep the newest N commits.]:keep-last:'
        '--keep-hourly[Keep the newest commit of each of the last N hours that have commits ('\''unlimited'\'' for all).]:n:'
        '--keep-daily[… of each of the last N days.]:n:'
        '--keep-weekly[… of each of the last N ISO weeks.]:n:'
        '--keep-monthly[… of each of the last N months.]:n:'
        '--keep-yearly[… of each of the last N years.]:n:'
        '--keep-within[Keep every commit newer than now minus DURATION (36h, 30d, 2w, 1y6m).]:duration:'
        '--keep-within-hourly[Keep the newest commit of each hour within DURATION.]:duration:'
        '--keep-within-daily[Keep the newest commit of each day within DURATION.]:duration:'
        '--keep-within-weekly[Keep the newest commit of each week within DURATION.]:duration:'
        '--keep-within-monthly[Keep the newest commit of each month within DURATION.]:duration:'
        '--keep-within-yearly[Keep the newest commit of each year within DURATION.]:duration:'
        '*--keep-tag[Keep commits with a tag matching PATTERN (repeatable).]:pattern:'
        '*--branch[Apply only to branches matching GLOB (repeatable; default every branch).]:glob:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_retention_show() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_retention_rm() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_repro() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '*:stages:'
        '--dry-run[Show the plan and why; run nothing.]'
        '(--force -f)'{--force,-f}'[Run the selected stages even when up to date.]'
        '--downstream[With STAGE\: also run everything downstream of it.]'
        '--keep-going[After a failure, keep running stages that do not depend on it.]'
        '(--jobs -j)'{--jobs,-j}'[Stages to run in parallel (default\: number of cores).]:jobs:'
        '--commit[Record the new state as a commit after a successful run.]'
        '--no-verify[With --commit\: do not run the installed pre-commit hook.]'
        '(--message -m)'{--message,-m}'[Message of the --commit commit.]:message:'
        '--json[Print JSON.]'
        '--require-lineage[Fail when lineage events cannot be delivered (default\: they wait in the store).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_stages() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_dag() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--dot[Graphviz dot.]'
        '--mermaid[Mermaid flowchart.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_lineage() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'export:Write every stored event as JSON lines (stdout or --out FILE).'
            'flush:Send the events that could not be delivered yet (e.g. the backend was down).'
            'prov:Print the PROV-O JSON-LD document of a run (run id, prefix, or commit), or of every run merged (--all).'
            'verify:Fail (exit 22) when a commit'\''s outputs lack their lineage events or PROV document.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        export|flush|prov|verify)
            "_strata_lineage_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_lineage_export() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--out[File to write.]:out:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_lineage_flush() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_lineage_prov() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':run:'
        '--all[Every run'\''s document merged into one graph.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_lineage_verify() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':ref:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_runs() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '-n[At most N runs.]:n:'
        '--dataset[Only runs that read or wrote this path (a file inside a folder dataset counts).]:path:'
        '--output-sha256[Only runs that output a version with this sha256 (e.g. from '\''strata ls --json'\'').]:sha256:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_reproduce() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':run:'
        '--in[Scratch folder (default\: a new temporary folder).]:in:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_catalog() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':ref:'
        '*--include[Also publish this path (repeatable).]:include:'
        '--out[Output folder (default .strata/catalogue, outside the workspace).]:out:'
        '--title[Catalogue title (default\: catalog.title, else '\''Datasets of NAMESPACE'\'').]:title:'
        '--check[List the missing mandatory and recommended metadata instead of writing.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_hooks() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'install:Copy the shipped hooks into .strata/hooks/ (and .git/hooks/ when the workspace is a git checkout).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        install)
            "_strata_hooks_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_hooks_install() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_remote() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'add:Add remote NAME at URL after probing what its storage can do.'
            'list:List remotes with their URL and what their storage can do.'
            'remove:Forget remote NAME (nothing on the remote changes).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        add|list|remove)
            "_strata_remote_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_remote_add() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':name:'
        ':url:'
        '--endpoint[S3 endpoint (default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS).]:url:'
        '--region[S3 region (default AWS_REGION, AWS_DEFAULT_REGION, the profile, else us-east-1).]:region:'
        '--path-style[Path-style addressing (endpoint/bucket/key); the only style used so far, accepted for compatibility.]'
        '--single-writer[Accept storage that ignores conditional writes; only safe when a single machine ever writes.]'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_remote_list() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_remote_remove() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_push() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':remote:'
        '*:refs:'
        '--all[Push every branch.]'
        '--tags[Push every tag.]'
        '--force-with-lease[Overwrite a remote ref only if it still points where this store last saw it.]'
        '--require-lineage[Refuse unless every commit to publish has its lineage recorded.]'
        '--delete[Delete the named branches or tags on the remote (each must still be where your last fetch saw it).]'
        '--no-verify[Do not run the installed pre-push hook (.strata/hooks/pre-push).]'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_fetch() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':remote:'
        '--all-data[Download the file data of every commit (makes a partial store whole).]'
        '--prune[Delete remote-tracking refs of branches the remote no longer has.]'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_pull() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':remote:'
        ':branch:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_clone() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':url:'
        ':directory:'
        '--endpoint[S3 endpoint (default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS).]:url:'
        '--region[S3 region.]:region:'
        '--no-checkout[Download history only; files come when checked out.]'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_table() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'add:Declare the table at PATH (or a glob) with its key columns.'
            'list:List declared tables.'
            'remove:Forget a table declaration (the file is untouched).'
            'diff:Row-level diff of a table between two revisions (or a revision and the workspace).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        add|list|remove|diff)
            "_strata_table_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_table_add() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':path:'
        '--key[Key columns, comma-separated (JSON pointers like /org/id for JSONL).]:key:'
        '--format[csv, tsv, jsonl, parquet, delta or iceberg (default\: from the extension, or the folder'\''s log).]:format:'
        '--description[What the table holds.]:description:'
        '--append-only[An append-only log (evidence)\: merges keep both sides'\'' appended records, each once; no key needed.]'
        '*--type[A column type, COLUMN=TYPE (string, integer, decimal, double, boolean, date, timestamp); repeat for more columns. Row diffs compare that column'\''s cells as values of the type.]:type:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_table_list() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_table_remove() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':path:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_table_diff() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--key[Key columns, comma-separated (overrides the declaration).]:key:'
        '--stat[Per-table counts and per-column change counts only.]'
        '--json[JSON Lines\: one record per changed row, then a summary record.]'
        '--limit[Show at most N changed rows (counts stay complete).]:limit:'
        '--where[Only rows where COLUMN=VALUE (before or after).]:column=value:'
        '--strict-keys[Duplicate keys are an error.]'
        '--memory[Memory budget for the rows (e.g. 256MB, 64MB); larger tables spill to disk.]:memory:'
        '--exit-code[Exit with status 1 when the table differs.]'
        '--format[text or daff\: daff'\''s highlighter CSV (@@ header, ! schema, +++ added, --- removed, -> modified with old->new cells), which daff and Tabular Diff viewers read.]:format:'
        ':a:'
        ':b:'
        ':path:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_blame() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':path:'
        ':revision:'
        '--columns[Key columns, comma-separated (default\: the declaration'\''s).]:columns:'
        '--key[Only the row with this key value (comma-separated for a composite key, in key order).]:key:'
        '--json[Print JSON Lines\: one record per row.]'
        '--prov[Print PROV-O JSON-LD\: every row a prov\:Entity generated by its run and derived from its previous version.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_merge() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':revision:'
        '(--message -m)'{--message,-m}'[Message of the merge commit.]:message:'
        '--no-ff[Record a merge commit even when a fast-forward is possible.]'
        '--ff-only[Refuse unless the merge is a fast-forward.]'
        '--strategy[Settle conflicts automatically\: ours or theirs (as git merge -X).]:ours|theirs:'
        '--dry-run[Show what would merge and what would conflict; change nothing.]'
        '--keep-theirs[Beside a file that conflicts as a whole, write their version as PATH.theirs.]'
        '--allow-unrelated-histories[Merge histories that share no commit.]'
        '--abort[Abandon the merge in progress\: the workspace returns to HEAD as before the merge.]'
        '--continue[Conclude the merge in progress once every conflict is resolved.]'
        '--repro[Settle Pipeline.lock and stage-output conflicts by re-running '\''strata repro'\'' on the merged inputs, then commit.]'
        '--json[Print JSON (see docs/reference/json.md).]'
        '--require-lineage[Fail when the lineage events cannot be delivered (default\: they wait in the store).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_resolve() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':path:'
        '--ours[Take our version.]'
        '--theirs[Take their version.]'
        '--base[Take the merge base'\''s version.]'
        '--key[Resolve one row\: its key value, or COL=VALUE\[,COL=VALUE\] for a key of several columns.]:key:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_merge-base() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':a:'
        ':b:'
        '--all[Print every best common ancestor (several after criss-cross merges).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_serve() {
    local -i ret=1
    local -ar arg_specs=(
        '--listen[Address and port to listen on (port 0\: any free port).]:host\:port:'
        '--tls-cert[PEM certificate chain for HTTPS.]:file:'
        '--tls-key[PEM private key for HTTPS.]:file:'
        '--insecure-http[Allow plain HTTP on an address other than loopback.]'
        '--max-body[Largest pushed pack, in MiB.]:MiB:'
        '--idle-timeout[Seconds an idle connection is kept.]:s:'
        '--header-timeout[Seconds a client has to send a request'\''s headers (bodies must arrive at 1 KiB per 10 s).]:s:'
        ':dir:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_namespace() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'add:Add namespace NAME (its remote in the server root, or at --storage).'
            'list:List namespaces.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        add|list)
            "_strata_namespace_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_namespace_add() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        ':name:'
        '--storage[Where its remote lives\: file\:///path or s3\://bucket/prefix (default\: ns/NAME/remote in the root).]:url:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_namespace_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_user() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'add:Add user NAME (then '\''strata token create NAME'\'').'
            'remove:Remove user NAME, revoking their tokens and grants.'
            'list:List users.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        add|remove|list)
            "_strata_user_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_user_add() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        ':name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_user_remove() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        ':name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_user_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_token() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'create:Create a token for USER and print it once.'
            'revoke:Revoke token ID (it stops working at once).'
            'list:List tokens (never their secrets).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create|revoke|list)
            "_strata_token_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_token_create() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        ':user:'
        '--expires[Lifetime\: 30d, 12h, 90m (default\: no expiry).]:duration:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_token_revoke() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        ':id:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_token_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_policy() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'show:List grants and protections.'
            'set:Grant PRINCIPAL a ROLE on refs matching PATTERN ('\''none'\'' removes the grant).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        show|set)
            "_strata_policy_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_policy_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_policy_set() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        '--namespace[The namespace (a glob; default\: every namespace).]:namespace:'
        ':principal:'
        ':role:'
        ':pattern:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_protect() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        '--namespace[The namespace.]:namespace:'
        ':pattern:'
        '--require-merge[Only merge commits pushed by a maintainer move it.]'
        '--require-lineage[Refuse pushes whose new commits lack complete lineage (their lineage bundles, checked as '\''lineage verify'\'').]'
        '--require-verify[Refuse a new tip without a check the server signed ('\''strata check'\''\: lineage verified, --verify-stage reproduced).]'
        '*--verify-stage[A stage whose reproduction --require-verify asks for (repeatable).]:stage:'
        '--remove[Remove the protection.]'
        '--list[List protections.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_audit() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'log:Print the audit log, oldest first.'
            'verify:Check every entry'\''s hash and link; exit 12 naming the first broken entry.'
            'revert:Put the ref of audit entry SEQ back where it was before (a wrong push or force-move).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        log|verify|revert)
            "_strata_audit_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_strata_audit_log() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        '--last[Only the last N entries.]:last:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_audit_verify() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_audit_revert() {
    local -i ret=1
    local -ar arg_specs=(
        '--root[The server root (default\: STRATA_SERVER_ROOT, else the working folder).]:DIR:'
        ':seq:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_promote() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':revision:'
        '--to[The remote to promote to, e.g. dist.]:to:'
        '--as[The branch on that remote (default\: main).]:as:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_check() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':revision:'
        '--remote[The remote to record the check on (default\: the branch'\''s upstream, else origin).]:remote:'
        '*--stage[A stage to reproduce (repeatable).]:stage:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_mcp() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_ui() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--port[Port on 127.0.0.1 (0\: any free port).]:port:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_site() {
    local -i ret=1
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        '--out[Folder to write (created when missing).]:dir:'
        ':ref:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_watch() {
    local -i ret=1
    local -ar _action=('start' 'stop' 'status')
    local -ar arg_specs=(
        '(-q --quiet)'{-q,--quiet}'[Print nothing but errors (and the requested data).]'
        '-C[Run as if strata was started in DIR.]:DIR:'
        ':action:{__strata_complete "${_action[@]}"}'
        '--json[Print JSON.]'
        '--idle[Seconds without a question before the monitor exits.]:s:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_strata_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _strata ]]; then
    _strata "${@}"
else
    compdef _strata strata
fi
