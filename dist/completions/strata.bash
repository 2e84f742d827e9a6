#!/bin/bash

__strata_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__strata_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__strata_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__strata_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_strata() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    init|status|commit|log|show|ls|cat|diff|branch|switch|tag|checkout|reset|reflog|fsck|config|prune|gc|retention|repro|stages|dag|lineage|runs|reproduce|catalog|hooks|remote|push|fetch|pull|clone|table|blame|merge|resolve|merge-base|serve|namespace|user|token|policy|protect|audit|promote|check|mcp|ui|site|watch|help)
        # Offer subcommand argument completions
        "_strata_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'init status commit log show ls cat diff branch switch tag checkout reset reflog fsck config prune gc retention repro stages dag lineage runs reproduce catalog hooks remote push fetch pull clone table blame merge resolve merge-base serve namespace user token policy protect audit promote check mcp ui site watch help' -- "${cur}"))
        ;;
    esac
}

_strata_init() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_status() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_commit() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --allow-empty --json --require-lineage --no-verify --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --message -m --author --date)
    __strata_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--message'|'-m')
        return
        ;;
    '--author')
        return
        ;;
    '--date')
        return
        ;;
    esac
}

_strata_log() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --oneline --json --graph --first-parent --version -h --help)
    repeating_options=()
    non_repeating_options=(-C -n)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '-n')
        return
        ;;
    esac
}

_strata_show() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_ls() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --recursive -r --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_cat() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_diff() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --stat --json --rows --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_branch() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet -d --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_switch() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet -c --force -f --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_tag() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet -d --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --message -m)
    __strata_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--message'|'-m')
        return
        ;;
    esac
}

_strata_checkout() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --force -f --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_reset() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --hard --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_reflog() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_fsck() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_config() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --unset --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_prune() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --dry-run --undo --json --version -h --help)
    repeating_options=(--keep-tag --branch)
    non_repeating_options=(-C --keep-last --keep-hourly --keep-daily --keep-weekly --keep-monthly --keep-yearly --keep-within --keep-within-hourly --keep-within-daily --keep-within-weekly --keep-within-monthly --keep-within-yearly --now --time-zone --reflog-expire --remote)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--keep-last')
        return
        ;;
    '--keep-hourly')
        return
        ;;
    '--keep-daily')
        return
        ;;
    '--keep-weekly')
        return
        ;;
    '--keep-monthly')
        return
        ;;
    '--keep-yearly')
        return
        ;;
    '--keep-within')
        return
        ;;
    '--keep-within-hourly')
        return
        ;;
    '--keep-within-daily')
        return
        ;;
    '--keep-within-weekly')
        return
        ;;
    '--keep-within-monthly')
        return
        ;;
    '--keep-within-yearly')
        return
        ;;
    '--keep-tag')
        return
        ;;
    '--branch')
        return
        ;;
    '--now')
        return
        ;;
    '--time-zone')
        return
        ;;
    '--reflog-expire')
        return
        ;;
    '--remote')
        return
        ;;
    esac
}

_strata_gc() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --dry-run --force --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --grace --lease --remote)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--grace')
        return
        ;;
    '--lease')
        return
        ;;
    '--remote')
        return
        ;;
    esac
}

_strata_retention() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    set|show|rm)
        # Offer subcommand argument completions
        "_strata_retention_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'set show rm' -- "${cur}"))
        ;;
    esac
}

_strata_retention_set() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=(--keep-tag --branch)
    non_repeating_options=(-C --keep-last --keep-hourly --keep-daily --keep-weekly --keep-monthly --keep-yearly --keep-within --keep-within-hourly --keep-within-daily --keep-within-weekly --keep-within-monthly --keep-within-yearly)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--keep-last')
        return
        ;;
    '--keep-hourly')
        return
        ;;
    '--keep-daily')
        return
        ;;
    '--keep-weekly')
        return
        ;;
    '--keep-monthly')
        return
        ;;
    '--keep-yearly')
        return
        ;;
    '--keep-within')
        return
        ;;
    '--keep-within-hourly')
        return
        ;;
    '--keep-within-daily')
        return
        ;;
    '--keep-within-weekly')
        return
        ;;
    '--keep-within-monthly')
        return
        ;;
    '--keep-within-yearly')
        return
        ;;
    '--keep-tag')
        return
        ;;
    '--branch')
        return
        ;;
    esac
}

_strata_retention_show() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_retention_rm() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_repro() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --dry-run --force -f --downstream --keep-going --commit --no-verify --json --require-lineage --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --jobs -j --message -m)
    __strata_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--jobs'|'-j')
        return
        ;;
    '--message'|'-m')
        return
        ;;
    esac
}

_strata_stages() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_dag() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --dot --mermaid --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_lineage() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    export|flush|prov|verify)
        # Offer subcommand argument completions
        "_strata_lineage_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'export flush prov verify' -- "${cur}"))
        ;;
    esac
}

_strata_lineage_export() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --out)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--out')
        return
        ;;
    esac
}

_strata_lineage_flush() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_lineage_prov() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --all --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_lineage_verify() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_runs() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C -n --dataset --output-sha256)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '-n')
        return
        ;;
    '--dataset')
        return
        ;;
    '--output-sha256')
        return
        ;;
    esac
}

_strata_reproduce() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --in)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--in')
        return
        ;;
    esac
}

_strata_catalog() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --check --version -h --help)
    repeating_options=(--include)
    non_repeating_options=(-C --out --title)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--include')
        return
        ;;
    '--out')
        return
        ;;
    '--title')
        return
        ;;
    esac
}

_strata_hooks() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    install)
        # Offer subcommand argument completions
        "_strata_hooks_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'install' -- "${cur}"))
        ;;
    esac
}

_strata_hooks_install() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_remote() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    add|list|remove)
        # Offer subcommand argument completions
        "_strata_remote_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'add list remove' -- "${cur}"))
        ;;
    esac
}

_strata_remote_add() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --path-style --single-writer --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --endpoint --region)
    __strata_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--endpoint')
        return
        ;;
    '--region')
        return
        ;;
    esac
}

_strata_remote_list() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_remote_remove() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_push() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --all --tags --force-with-lease --require-lineage --delete --no-verify --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_fetch() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --all-data --prune --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_pull() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_clone() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --no-checkout --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --endpoint --region)
    __strata_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--endpoint')
        return
        ;;
    '--region')
        return
        ;;
    esac
}

_strata_table() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    add|list|remove|diff)
        # Offer subcommand argument completions
        "_strata_table_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'add list remove diff' -- "${cur}"))
        ;;
    esac
}

_strata_table_add() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --append-only --version -h --help)
    repeating_options=(--type)
    non_repeating_options=(-C --key --format --description)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--key')
        return
        ;;
    '--format')
        return
        ;;
    '--description')
        return
        ;;
    '--type')
        return
        ;;
    esac
}

_strata_table_list() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_table_remove() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_table_diff() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --stat --json --strict-keys --exit-code --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --key --limit --where --memory --format)
    __strata_offer_flags_options 3

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--key')
        return
        ;;
    '--limit')
        return
        ;;
    '--where')
        return
        ;;
    '--memory')
        return
        ;;
    '--format')
        return
        ;;
    esac
}

_strata_blame() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --prov --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --columns --key)
    __strata_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--columns')
        return
        ;;
    '--key')
        return
        ;;
    esac
}

_strata_merge() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --no-ff --ff-only --dry-run --keep-theirs --allow-unrelated-histories --abort --continue --repro --json --require-lineage --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --message -m --strategy)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--message'|'-m')
        return
        ;;
    '--strategy')
        return
        ;;
    esac
}

_strata_resolve() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --ours --theirs --base --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --key)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--key')
        return
        ;;
    esac
}

_strata_merge-base() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --all --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_serve() {
    repeating_flags=()
    non_repeating_flags=(--insecure-http --version -h --help)
    repeating_options=()
    non_repeating_options=(--listen --tls-cert --tls-key --max-body --idle-timeout --header-timeout)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--listen')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--max-body')
        return
        ;;
    '--idle-timeout')
        return
        ;;
    '--header-timeout')
        return
        ;;
    esac
}

_strata_namespace() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    add|list)
        # Offer subcommand argument completions
        "_strata_namespace_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'add list' -- "${cur}"))
        ;;
    esac
}

_strata_namespace_add() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root --storage)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    '--storage')
        return
        ;;
    esac
}

_strata_namespace_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_strata_user() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    add|remove|list)
        # Offer subcommand argument completions
        "_strata_user_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'add remove list' -- "${cur}"))
        ;;
    esac
}

_strata_user_add() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_strata_user_remove() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_strata_user_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_strata_token() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    create|revoke|list)
        # Offer subcommand argument completions
        "_strata_token_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'create revoke list' -- "${cur}"))
        ;;
    esac
}

_strata_token_create() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--root --expires)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    '--expires')
        return
        ;;
    esac
}

_strata_token_revoke() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_strata_token_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_strata_policy() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    show|set)
        # Offer subcommand argument completions
        "_strata_policy_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'show set' -- "${cur}"))
        ;;
    esac
}

_strata_policy_show() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_strata_policy_set() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root --namespace)
    __strata_offer_flags_options 3

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    '--namespace')
        return
        ;;
    esac
}

_strata_protect() {
    repeating_flags=()
    non_repeating_flags=(--require-merge --require-lineage --require-verify --remove --list --version -h --help)
    repeating_options=(--verify-stage)
    non_repeating_options=(--root --namespace)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    '--namespace')
        return
        ;;
    '--verify-stage')
        return
        ;;
    esac
}

_strata_audit() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    log|verify|revert)
        # Offer subcommand argument completions
        "_strata_audit_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'log verify revert' -- "${cur}"))
        ;;
    esac
}

_strata_audit_log() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--root --last)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    '--last')
        return
        ;;
    esac
}

_strata_audit_verify() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_strata_audit_revert() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_strata_promote() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --to --as)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--to')
        return
        ;;
    '--as')
        return
        ;;
    esac
}

_strata_check() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=(--stage)
    non_repeating_options=(-C --remote)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--remote')
        return
        ;;
    '--stage')
        return
        ;;
    esac
}

_strata_mcp() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    esac
}

_strata_ui() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --port)
    __strata_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--port')
        return
        ;;
    esac
}

_strata_site() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --out)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--out')
        return
        ;;
    esac
}

_strata_watch() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --json --version -h --help)
    repeating_options=()
    non_repeating_options=(-C --idle)
    __strata_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-C')
        return
        ;;
    '--idle')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __strata_add_completions -W 'start'$'\n''stop'$'\n''status'
        return
        ;;
    esac
}

_strata_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __strata_offer_flags_options -1
}

complete -o filenames -F _strata strata
