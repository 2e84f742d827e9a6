function __strata_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __strata_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __strata_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __strata_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __strata_parse_tokens -S
    set -l unparsed_tokens (__strata_tokens -pc)
    switch $unparsed_tokens[1]
    case 'strata'
        __strata_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'init'
            __strata_parse_subcommand 1 'q/quiet' 'version' 'h/help'
        case 'status'
            __strata_parse_subcommand 0 'q/quiet' 'C=' 'json' 'version' 'h/help'
        case 'commit'
            __strata_parse_subcommand -r 1 'q/quiet' 'C=' 'm/message=' 'author=' 'date=' 'allow-empty' 'json' 'version' 'h/help'
        case 'log'
            __strata_parse_subcommand 1 'q/quiet' 'C=' 'n=' 'oneline' 'json' 'version' 'h/help'
        case 'show'
            __strata_parse_subcommand 1 'q/quiet' 'C=' 'json' 'version' 'h/help'
        case 'ls'
            __strata_parse_subcommand 2 'q/quiet' 'C=' 'r/recursive' 'json' 'version' 'h/help'
        case 'cat'
            __strata_parse_subcommand 1 'q/quiet' 'C=' 'version' 'h/help'
        case 'diff'
            __strata_parse_subcommand -r 3 'q/quiet' 'C=' 'stat' 'json' 'version' 'h/help'
        case 'branch'
            __strata_parse_subcommand 2 'q/quiet' 'C=' 'd' 'json' 'version' 'h/help'
        case 'switch'
            __strata_parse_subcommand 1 'q/quiet' 'C=' 'c' 'f/force' 'version' 'h/help'
        case 'tag'
            __strata_parse_subcommand 2 'q/quiet' 'C=' 'd' 'm/message=' 'json' 'version' 'h/help'
        case 'checkout'
            __strata_parse_subcommand -r 2 'q/quiet' 'C=' 'f/force' 'version' 'h/help'
        case 'reset'
            __strata_parse_subcommand 1 'q/quiet' 'C=' 'hard' 'version' 'h/help'
        case 'reflog'
            __strata_parse_subcommand 1 'q/quiet' 'C=' 'json' 'version' 'h/help'
        case 'fsck'
            __strata_parse_subcommand 0 'q/quiet' 'C=' 'json' 'version' 'h/help'
        case 'config'
            __strata_parse_subcommand 2 'q/quiet' 'C=' 'unset' 'version' 'h/help'
        case 'help'
            __strata_parse_subcommand -r 1 'version'
        end
    end
end

function __strata_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __strata_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __strata_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __strata_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__strata_tokens -p)
    if test -z "$(__strata_tokens -t)"
        set -l index (count (__strata_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'strata' -f
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'init' -d 'Create an empty store (.strata/) in DIR (default: the current folder).'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'status' -d 'Show files added, modified, deleted or renamed since HEAD.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'commit' -d 'Record a snapshot of the workspace (or of PATHs) on the current branch.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'log' -d 'List commits reachable from REF (default HEAD), newest first.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'show' -d 'Show a commit and the files it changed against its first parent.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'ls' -d 'List the entries of a folder in a commit: type, mode, size, sha256, path.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'cat' -d 'Stream the bytes of a file in a commit to stdout (verified against its sha256).'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'diff' -d 'File-level changes between two commits, or between a commit (default HEAD) and the workspace.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'branch' -d 'List branches, create NAME at START (default HEAD), or delete one with -d.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'switch' -d 'Switch to branch NAME (with -c, create it at HEAD first).'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'tag' -d 'List tags, create NAME at REF (default HEAD), or delete one with -d.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'checkout' -d 'Make the workspace match REF and move HEAD there; with -- PATH..., restore only those paths.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'reset' -d 'Move the current branch to REF (rollback); --hard also makes the workspace match.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'reflog' -d 'Show how refs moved (default: HEAD), newest first; \'all\' lists every ref.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'fsck' -d 'Re-hash every stored object and check every reachable commit and tree.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'config' -d 'Get, set (KEY VALUE), unset (--unset KEY) or list store settings such as user.name.'
complete -c 'strata' -n '__strata_should_offer_completions_for_positional "strata" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata init" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata init" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata init" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata status" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata status" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata status" json' -l 'json' -d 'Print JSON (see docs/reference/json.md).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata status" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata commit" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata commit" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata commit" m message' -l 'message' -s 'm' -d 'Commit message.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata commit" author' -l 'author' -d 'Author as "Name <email>" (default: STRATA_AUTHOR, then config user.name/user.email).' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata commit" date' -l 'date' -d 'Commit time, ISO-8601 (e.g. 2026-01-05T12:00:00Z).' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata commit" allow-empty' -l 'allow-empty' -d 'Record a commit even when nothing changed.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata commit" json' -l 'json' -d 'Print JSON.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata commit" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata commit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata log" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata log" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata log" n' -s 'n' -d 'Show at most N commits.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata log" oneline' -l 'oneline' -d 'One line per commit.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata log" json' -l 'json' -d 'Print JSON.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata log" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata log" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata show" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata show" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata show" json' -l 'json' -d 'Print JSON.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata show" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata ls" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata ls" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata ls" r recursive' -l 'recursive' -s 'r' -d 'List every file below, recursively.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata ls" json' -l 'json' -d 'Print JSON.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata ls" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata ls" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata cat" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata cat" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata cat" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata cat" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata diff" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata diff" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata diff" stat' -l 'stat' -d 'Summarise: paths with size changes and totals.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata diff" json' -l 'json' -d 'Print JSON.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata diff" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata diff" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata branch" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata branch" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata branch" d' -s 'd' -d 'Delete the branch NAME.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata branch" json' -l 'json' -d 'Print JSON.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata branch" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata branch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata switch" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata switch" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata switch" c' -s 'c' -d 'Create the branch at HEAD and switch to it.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata switch" f force' -l 'force' -s 'f' -d 'Discard uncommitted changes that would be overwritten.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata switch" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata switch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata tag" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata tag" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata tag" d' -s 'd' -d 'Delete the tag NAME.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata tag" m message' -l 'message' -s 'm' -d 'Annotate the tag with a message.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata tag" json' -l 'json' -d 'Print JSON.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata tag" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata tag" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata checkout" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata checkout" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata checkout" f force' -l 'force' -s 'f' -d 'Discard uncommitted changes that would be overwritten.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata checkout" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata checkout" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata reset" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata reset" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata reset" hard' -l 'hard' -d 'Also overwrite the workspace with REF\'s files (uncommitted changes are lost).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata reset" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata reset" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata reflog" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata reflog" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata reflog" json' -l 'json' -d 'Print JSON.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata reflog" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata reflog" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata fsck" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata fsck" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata fsck" json' -l 'json' -d 'Print JSON.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata fsck" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata fsck" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata config" q quiet' -s 'q' -l 'quiet' -d 'Print nothing but errors (and the requested data).'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata config" C' -s 'C' -d 'Run as if strata was started in DIR.' -rfka ''
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata config" unset' -l 'unset' -d 'Remove KEY.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata config" version' -l 'version' -d 'Show the version.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata config" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'strata' -n '__strata_should_offer_completions_for_flags_or_options "strata help" version' -l 'version' -d 'Show the version.'
