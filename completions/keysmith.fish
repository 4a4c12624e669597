# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_keysmith_global_optspecs
    string join \n db= json no-pager h/help V/version
end

function __fish_keysmith_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_keysmith_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_keysmith_using_subcommand
    set -l cmd (__fish_keysmith_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c keysmith -n "__fish_keysmith_needs_command" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_needs_command" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_needs_command" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_needs_command" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_needs_command" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "create" -d 'Mint a key and print it once (stdout carries the key alone)'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "init" -d 'Make an empty store (for a `serve` that has no key yet)'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "info" -d 'Say which store is used, why, and what it holds'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "list" -d 'List keys, newest first, with the secret masked'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "enable" -d 'Switch a key on'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "disable" -d 'Switch a key off: verification fails until it is enabled again'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "verify" -d 'Check a key: exit 0 when valid, 1 when not (prefer passing it on stdin)'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "show" -d 'Show every field of a key and its history'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "edit" -d 'Change a key\'s name, description, service, expiry, scopes, uses or rate limit'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "rotate" -d 'Replace a key with a new one: same name, service and prefix, new secret'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "delete" -d 'Remove a key for good (its history stays)'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "history" -d 'Show the event log, newest first'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "owner" -d 'The owners keys belong to: list, show, set limits, enable, disable, delete'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "scan" -d 'Find keysmith keys in files, folders or stdin, and report their state'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "backup" -d 'Write a consistent copy of the store to a new file (mode 0600)'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "migrate" -d 'Copy every key, its history and links into another, empty store'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "serve" -d 'Answer verifications over HTTP for API servers and gateways'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "man" -d 'Print the manual page, or write every page into a folder'
complete -c keysmith -n "__fish_keysmith_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l name -d 'What the key is for (required unless prompted on a terminal)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l description -d 'A longer note about the key' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l service -d 'The service the key belongs to, e.g. sms' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l prefix -d 'The key\'s prefix' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l expires-in -d 'Make the key expire after this long, e.g. 30d, 12h, 1d12h' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l scope -d 'Grant this scope (repeatable), e.g. sms:send, or sms:* for every sms: scope' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l uses -d 'Allow this many VALID verifications, then USAGE_EXCEEDED' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l rate -d 'At most N VALID answers in any DURATION, in each `serve`, e.g. 100/1m' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l refill -d 'Give the uses back to --uses N at each period\'s start (UTC): daily, weekly, monthly, monthly:DAY, or a duration such as 12h' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l allow-ip -d 'Allow the key only from this address or CIDR range (repeatable), e.g. 203.0.113.0/24: IP_NOT_ALLOWED from elsewhere' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l owner -d 'The application\'s id of the customer the key belongs to, e.g. acme' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l meta -d 'A JSON object kept with the key and returned with VALID, at most 4 KiB, e.g. \'{"plan":"pro"}\'' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l meta-file -d 'The metadata from this file (`-`: stdin)' -r -F
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l from -d 'Create one key per line of this JSON Lines file (`-`: stdin), all or nothing; prints one JSON line per key, with the full key' -r -F
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -s y -l yes -d 'Skip the confirmation prompt (asked only when prompting, without --name)'
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -s c -l copy -d 'Put the key on the clipboard instead of printing it (cleared after $KEYSMITH_CLIP_TIME seconds, 45 by default)'
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand create" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand init" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand init" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand init" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand init" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand init" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand info" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand info" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand info" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand info" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand info" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l service -d 'Only keys of this service' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l owner -d 'Only keys of this owner' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l status -d 'Only keys with this status' -r -f -a "enabled\t''
disabled\t''
expired\t''"
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l limit -d 'At most this many keys' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l expiring-within -d 'Only keys that expire within this time from now, e.g. 7d' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l unused-for -d 'Only keys not used for this long (a key never used counts from its creation)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l search -d 'Only keys whose name or description contains TEXT (any case)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l sort -d 'The order: created (newest first), name (A to Z), last-used (most recent first) or expires (soonest first); --expiring-within sorts by expires' -r -f -a "created\t''
name\t''
last-used\t''
expires\t''"
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l exit-code -d 'Exit 1 when any key is listed (for cron jobs and alerts)'
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -l wide -d 'Add the other fields: description, use count, expiry, replacement, scopes, uses left, rate limit'
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -s q -l quiet -d 'Print only the ids, one per line (for xargs)'
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand list" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand enable" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand enable" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand enable" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand enable" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand enable" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand disable" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand disable" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand disable" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand disable" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand disable" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand verify" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand verify" -l service -d 'Also require the key to belong to this service' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand verify" -l scope -d 'Require this scope of the key (repeatable): INSUFFICIENT_SCOPE unless every one is granted' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand verify" -l cost -d 'Spend this many uses (of the key, and of its owner, when they have a limit); more than are left is USAGE_EXCEEDED and spends nothing' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand verify" -l ip -d 'The client\'s address, for keys with IP rules (--allow-ip)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand verify" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand verify" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand verify" -l stdin-all -d 'Check every line of stdin, one result line per input line; exit 0 only if every key is valid'
complete -c keysmith -n "__fish_keysmith_using_subcommand verify" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand verify" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand show" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand show" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand show" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand show" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand show" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l name -d 'A new name' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l description -d 'A new description ("" removes it)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l service -d 'A new service' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l expires-in -d 'Expire this long from now, e.g. 30d, 12h, 1d12h' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l scope -d 'Grant exactly these scopes (repeatable), replacing the key\'s' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l uses -d 'Allow this many more VALID verifications from now on' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l rate -d 'A new rate limit, e.g. 100/1m' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l refill -d 'Give the uses back to --uses N at each period\'s start (UTC): daily, weekly, monthly, monthly:DAY, or a duration such as 12h' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l allow-ip -d 'Allow the key only from these addresses or CIDR ranges (repeatable), replacing its rules' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l owner -d 'The application\'s id of the customer the key belongs to, e.g. acme' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l meta -d 'A JSON object kept with the key and returned with VALID, at most 4 KiB, e.g. \'{"plan":"pro"}\'' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l meta-file -d 'The metadata from this file (`-`: stdin)' -r -F
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l no-service -d 'Take the key out of its service: it then verifies only without --service'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l no-expiry -d 'Remove the expiry'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l no-scopes -d 'Remove every scope'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l unlimited-uses -d 'Remove the limit of uses'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l no-rate -d 'Remove the rate limit'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l no-refill -d 'Stop refilling the uses'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l no-allow-ip -d 'Remove every IP rule: any address may use the key'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l no-owner -d 'Take the key from its owner'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -l no-meta -d 'Remove the metadata'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand edit" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand rotate" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand rotate" -l grace -d 'Keep the old key valid this long (e.g. 24h) instead of disabling it now' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand rotate" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand rotate" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand rotate" -s y -l yes -d 'Skip the confirmation prompt (required without a terminal)'
complete -c keysmith -n "__fish_keysmith_using_subcommand rotate" -s c -l copy -d 'Put the new key on the clipboard instead of printing it (cleared after $KEYSMITH_CLIP_TIME seconds, 45 by default)'
complete -c keysmith -n "__fish_keysmith_using_subcommand rotate" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand rotate" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand delete" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand delete" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand delete" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand delete" -s y -l yes -d 'Skip the confirmation prompt (required without a terminal)'
complete -c keysmith -n "__fish_keysmith_using_subcommand delete" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand delete" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand history" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand history" -l limit -d 'At most this many events' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand history" -l action -d 'Only events of this action (repeatable): create, enable, disable, edit, rotate, delete' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand history" -l since -d 'Only events of the last DURATION, e.g. 1h, 7d' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand history" -l owner -d 'Only this owner\'s events: its keys\' while they were its' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand history" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand history" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand history" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand history" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -f -a "list" -d 'List the owners, by id, with their status, keys and limits'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -f -a "show" -d 'Show an owner\'s status, limits and history'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -f -a "set" -d 'Set an owner\'s limits, shared by all its keys (makes the owner when new)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -f -a "enable" -d 'Switch an owner on: its keys verify again (as each key\'s own status allows)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -f -a "disable" -d 'Switch an owner off: every key of it is refused, DISABLED, until enabled'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -f -a "delete" -d 'Remove an owner without keys (its history stays)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and not __fish_seen_subcommand_from list show set enable disable delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from list" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from list" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from list" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from show" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from show" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from show" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l uses -d 'Allow its keys this many VALID verifications in all, then USAGE_EXCEEDED' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l rate -d 'At most N VALID answers in any DURATION for all its keys together, e.g. 100/1s' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l refill -d 'Give the uses back to --uses N at each period\'s start (UTC): daily, weekly, monthly, monthly:DAY, or a duration such as 12h' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l allow-ip -d 'Allow its keys only from these addresses or CIDR ranges (repeatable), replacing its rules' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l unlimited-uses -d 'Remove the limit of uses'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l no-rate -d 'Remove the rate limit'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l no-refill -d 'Stop refilling the uses'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l no-allow-ip -d 'Remove every IP rule of the owner'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from enable" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from enable" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from enable" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from enable" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from disable" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from disable" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from disable" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from disable" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from delete" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Do not ask for confirmation'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from delete" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from delete" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the owners, by id, with their status, keys and limits'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show an owner\'s status, limits and history'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set an owner\'s limits, shared by all its keys (makes the owner when new)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from help" -f -a "enable" -d 'Switch an owner on: its keys verify again (as each key\'s own status allows)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Switch an owner off: every key of it is refused, DISABLED, until enabled'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Remove an owner without keys (its history stays)'
complete -c keysmith -n "__fish_keysmith_using_subcommand owner; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keysmith -n "__fish_keysmith_using_subcommand scan" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand scan" -l rules -d 'Print a rule for this scanner that finds keysmith keys, instead of scanning' -r -f -a "gitleaks\t''
trufflehog\t''"
complete -c keysmith -n "__fish_keysmith_using_subcommand scan" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand scan" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand scan" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand scan" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand backup" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand backup" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand backup" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand backup" -l force -d 'Replace FILE if it exists'
complete -c keysmith -n "__fish_keysmith_using_subcommand backup" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand backup" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand migrate" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand migrate" -l to -d 'The empty store to copy into: a SQLite path or a postgres:// URL' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand migrate" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand migrate" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand migrate" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand migrate" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand completions" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand completions" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand completions" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand completions" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand completions" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l listen -d 'Where to listen: HOST:PORT, [::1]:PORT or unix:/path (repeatable; default 127.0.0.1:7207)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l key-header -d 'The headers a key is read from, in order (repeatable; default Authorization (Bearer), then X-API-Key)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l flush-interval -d 'How often counted uses are written to the store, e.g. 1s, 500ms' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l max-connections -d 'The most connections open at once; more are closed at once' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l tls-cert -d 'Speak HTTPS on every listener, with this certificate chain (PEM)' -r -F
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l tls-key -d 'The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l socket-mode -d 'The permissions of --listen unix: sockets, in octal (default 0660: the owner and the socket\'s group may connect; 0600: the owner only)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l access-log -d 'Log one line per request to this file (appended), or to stdout with `-`' -r -F
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l access-log-format -d 'How --access-log writes a line: text, or one JSON object' -r -f -a "text\t''
json\t''"
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l trusted-proxy -d 'A proxy (a gateway) whose /v1/auth requests carry the client\'s address in --client-ip-header (repeatable; address or CIDR range)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l client-ip-header -d 'The one header a trusted proxy puts the client\'s address in, for IP rules: x-forwarded-for (the rightmost untrusted address) or x-real-ip' -r -f -a "x-forwarded-for\t''
x-real-ip\t''"
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l header-timeout -d 'How long a client may take to send a request\'s headers' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -l meta-header -d 'Add the key\'s metadata to /v1/auth\'s 200 answers, as JSON in X-Keysmith-Meta (at most 12 KiB: see docs/src/gateways.md for the gateway\'s buffer)'
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand serve" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand man" -l db -d 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)' -r
complete -c keysmith -n "__fish_keysmith_using_subcommand man" -l dir -d 'Write keysmith.1 and a page per subcommand (keysmith-create.1, ...) into DIR, made if missing, instead of printing one' -r -F
complete -c keysmith -n "__fish_keysmith_using_subcommand man" -l json -d 'Print JSON on stdout instead of text'
complete -c keysmith -n "__fish_keysmith_using_subcommand man" -l no-pager -d 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
complete -c keysmith -n "__fish_keysmith_using_subcommand man" -s h -l help -d 'Print help'
complete -c keysmith -n "__fish_keysmith_using_subcommand man" -s V -l version -d 'Print version'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "create" -d 'Mint a key and print it once (stdout carries the key alone)'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "init" -d 'Make an empty store (for a `serve` that has no key yet)'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "info" -d 'Say which store is used, why, and what it holds'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "list" -d 'List keys, newest first, with the secret masked'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "enable" -d 'Switch a key on'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "disable" -d 'Switch a key off: verification fails until it is enabled again'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "verify" -d 'Check a key: exit 0 when valid, 1 when not (prefer passing it on stdin)'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "show" -d 'Show every field of a key and its history'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "edit" -d 'Change a key\'s name, description, service, expiry, scopes, uses or rate limit'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "rotate" -d 'Replace a key with a new one: same name, service and prefix, new secret'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "delete" -d 'Remove a key for good (its history stays)'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "history" -d 'Show the event log, newest first'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "owner" -d 'The owners keys belong to: list, show, set limits, enable, disable, delete'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "scan" -d 'Find keysmith keys in files, folders or stdin, and report their state'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "backup" -d 'Write a consistent copy of the store to a new file (mode 0600)'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "migrate" -d 'Copy every key, its history and links into another, empty store'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "completions" -d 'Print a shell completion script'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "serve" -d 'Answer verifications over HTTP for API servers and gateways'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "man" -d 'Print the manual page, or write every page into a folder'
complete -c keysmith -n "__fish_keysmith_using_subcommand help; and not __fish_seen_subcommand_from create init info list enable disable verify show edit rotate delete history owner scan backup migrate completions serve man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
