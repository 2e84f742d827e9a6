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
            'show:Show a commit and the files it changed against its first parent.'
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
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        init|status|commit|log|show|ls|cat|diff|branch|switch|tag|checkout|reset|reflog|fsck|config|help)
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
        ':a:'
        ':b:'
        '--stat[Summarise\: paths with size changes and totals.]'
        '--json[Print JSON.]'
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
