# bash completion for kaddr. Option names come from `kaddr COMMAND --help`,
# so they never drift from the program.
_kaddr_options() {
    local cmd=$1 var="_kaddr_opts_${1//-/_}"
    if [[ -z ${!var-} ]]; then
        printf -v "$var" '%s' "$(command kaddr "$cmd" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)"
    fi
    printf '%s\n' "${!var}"
}

_kaddr() {
    local cur prev cmd
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "resolve oops batch route buckets gdb-symbols log index --help --version" -- "$cur"))
        return
    fi
    cmd=${COMP_WORDS[1]}
    case $prev in
        --snapshot|--debug-root|--modules|--index-dir)
            COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --vmlinux|--system-map|--kallsyms|--proc-modules|--sections|--proc-version|--ko|-e|--exe|--files-from|--requests)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --arch)
            COMPREPLY=($(compgen -W "x86_64 arm64 arm" -- "$cur")); return ;;
        --format)
            COMPREPLY=($(compgen -W "text json inplace" -- "$cur")); return ;;
        --jobs|-j|--kaslr-offset|--time-budget|--exemplars)
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_kaddr_options "$cmd")" -- "$cur"))
    elif [[ $cmd == oops || $cmd == batch || $cmd == route || $cmd == buckets ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -o filenames -F _kaddr kaddr
