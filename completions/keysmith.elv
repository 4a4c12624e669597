
use builtin;
use str;

set edit:completion:arg-completer[keysmith] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'keysmith'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'keysmith'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Mint a key and print it once (stdout carries the key alone)'
            cand init 'Make an empty store (for a `serve` that has no key yet)'
            cand info 'Say which store is used, why, and what it holds'
            cand list 'List keys, newest first, with the secret masked'
            cand enable 'Switch a key on'
            cand disable 'Switch a key off: verification fails until it is enabled again'
            cand verify 'Check a key: exit 0 when valid, 1 when not (prefer passing it on stdin)'
            cand show 'Show every field of a key and its history'
            cand edit 'Change a key''s name, description, service, expiry, scopes, uses or rate limit'
            cand rotate 'Replace a key with a new one: same name, service and prefix, new secret'
            cand delete 'Remove a key for good (its history stays)'
            cand history 'Show the event log, newest first'
            cand owner 'The owners keys belong to: list, show, set limits, enable, disable, delete'
            cand scan 'Find keysmith keys in files, folders or stdin, and report their state'
            cand backup 'Write a consistent copy of the store to a new file (mode 0600)'
            cand migrate 'Copy every key, its history and links into another, empty store'
            cand completions 'Print a shell completion script'
            cand serve 'Answer verifications over HTTP for API servers and gateways'
            cand man 'Print the manual page, or write every page into a folder'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keysmith;create'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --name 'What the key is for (required unless prompted on a terminal)'
            cand --description 'A longer note about the key'
            cand --service 'The service the key belongs to, e.g. sms'
            cand --prefix 'The key''s prefix'
            cand --expires-in 'Make the key expire after this long, e.g. 30d, 12h, 1d12h'
            cand --scope 'Grant this scope (repeatable), e.g. sms:send, or sms:* for every sms: scope'
            cand --uses 'Allow this many VALID verifications, then USAGE_EXCEEDED'
            cand --rate 'At most N VALID answers in any DURATION, in each `serve`, e.g. 100/1m'
            cand --refill 'Give the uses back to --uses N at each period''s start (UTC): daily, weekly, monthly, monthly:DAY, or a duration such as 12h'
            cand --allow-ip 'Allow the key only from this address or CIDR range (repeatable), e.g. 203.0.113.0/24: IP_NOT_ALLOWED from elsewhere'
            cand --owner 'The application''s id of the customer the key belongs to, e.g. acme'
            cand --meta 'A JSON object kept with the key and returned with VALID, at most 4 KiB, e.g. ''{"plan":"pro"}'''
            cand --meta-file 'The metadata from this file (`-`: stdin)'
            cand --from 'Create one key per line of this JSON Lines file (`-`: stdin), all or nothing; prints one JSON line per key, with the full key'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -y 'Skip the confirmation prompt (asked only when prompting, without --name)'
            cand --yes 'Skip the confirmation prompt (asked only when prompting, without --name)'
            cand -c 'Put the key on the clipboard instead of printing it (cleared after $KEYSMITH_CLIP_TIME seconds, 45 by default)'
            cand --copy 'Put the key on the clipboard instead of printing it (cleared after $KEYSMITH_CLIP_TIME seconds, 45 by default)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;init'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;info'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;list'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --service 'Only keys of this service'
            cand --owner 'Only keys of this owner'
            cand --status 'Only keys with this status'
            cand --limit 'At most this many keys'
            cand --expiring-within 'Only keys that expire within this time from now, e.g. 7d'
            cand --unused-for 'Only keys not used for this long (a key never used counts from its creation)'
            cand --search 'Only keys whose name or description contains TEXT (any case)'
            cand --sort 'The order: created (newest first), name (A to Z), last-used (most recent first) or expires (soonest first); --expiring-within sorts by expires'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand --exit-code 'Exit 1 when any key is listed (for cron jobs and alerts)'
            cand --wide 'Add the other fields: description, use count, expiry, replacement, scopes, uses left, rate limit'
            cand -q 'Print only the ids, one per line (for xargs)'
            cand --quiet 'Print only the ids, one per line (for xargs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;enable'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;disable'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;verify'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --service 'Also require the key to belong to this service'
            cand --scope 'Require this scope of the key (repeatable): INSUFFICIENT_SCOPE unless every one is granted'
            cand --cost 'Spend this many uses (of the key, and of its owner, when they have a limit); more than are left is USAGE_EXCEEDED and spends nothing'
            cand --ip 'The client''s address, for keys with IP rules (--allow-ip)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand --stdin-all 'Check every line of stdin, one result line per input line; exit 0 only if every key is valid'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;show'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;edit'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --name 'A new name'
            cand --description 'A new description ("" removes it)'
            cand --service 'A new service'
            cand --expires-in 'Expire this long from now, e.g. 30d, 12h, 1d12h'
            cand --scope 'Grant exactly these scopes (repeatable), replacing the key''s'
            cand --uses 'Allow this many more VALID verifications from now on'
            cand --rate 'A new rate limit, e.g. 100/1m'
            cand --refill 'Give the uses back to --uses N at each period''s start (UTC): daily, weekly, monthly, monthly:DAY, or a duration such as 12h'
            cand --allow-ip 'Allow the key only from these addresses or CIDR ranges (repeatable), replacing its rules'
            cand --owner 'The application''s id of the customer the key belongs to, e.g. acme'
            cand --meta 'A JSON object kept with the key and returned with VALID, at most 4 KiB, e.g. ''{"plan":"pro"}'''
            cand --meta-file 'The metadata from this file (`-`: stdin)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand --no-service 'Take the key out of its service: it then verifies only without --service'
            cand --no-expiry 'Remove the expiry'
            cand --no-scopes 'Remove every scope'
            cand --unlimited-uses 'Remove the limit of uses'
            cand --no-rate 'Remove the rate limit'
            cand --no-refill 'Stop refilling the uses'
            cand --no-allow-ip 'Remove every IP rule: any address may use the key'
            cand --no-owner 'Take the key from its owner'
            cand --no-meta 'Remove the metadata'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;rotate'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --grace 'Keep the old key valid this long (e.g. 24h) instead of disabling it now'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -y 'Skip the confirmation prompt (required without a terminal)'
            cand --yes 'Skip the confirmation prompt (required without a terminal)'
            cand -c 'Put the new key on the clipboard instead of printing it (cleared after $KEYSMITH_CLIP_TIME seconds, 45 by default)'
            cand --copy 'Put the new key on the clipboard instead of printing it (cleared after $KEYSMITH_CLIP_TIME seconds, 45 by default)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;delete'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -y 'Skip the confirmation prompt (required without a terminal)'
            cand --yes 'Skip the confirmation prompt (required without a terminal)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;history'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --limit 'At most this many events'
            cand --action 'Only events of this action (repeatable): create, enable, disable, edit, rotate, delete'
            cand --since 'Only events of the last DURATION, e.g. 1h, 7d'
            cand --owner 'Only this owner''s events: its keys'' while they were its'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;owner'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List the owners, by id, with their status, keys and limits'
            cand show 'Show an owner''s status, limits and history'
            cand set 'Set an owner''s limits, shared by all its keys (makes the owner when new)'
            cand enable 'Switch an owner on: its keys verify again (as each key''s own status allows)'
            cand disable 'Switch an owner off: every key of it is refused, DISABLED, until enabled'
            cand delete 'Remove an owner without keys (its history stays)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keysmith;owner;list'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;owner;show'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;owner;set'= {
            cand --uses 'Allow its keys this many VALID verifications in all, then USAGE_EXCEEDED'
            cand --rate 'At most N VALID answers in any DURATION for all its keys together, e.g. 100/1s'
            cand --refill 'Give the uses back to --uses N at each period''s start (UTC): daily, weekly, monthly, monthly:DAY, or a duration such as 12h'
            cand --allow-ip 'Allow its keys only from these addresses or CIDR ranges (repeatable), replacing its rules'
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --unlimited-uses 'Remove the limit of uses'
            cand --no-rate 'Remove the rate limit'
            cand --no-refill 'Stop refilling the uses'
            cand --no-allow-ip 'Remove every IP rule of the owner'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;owner;enable'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;owner;disable'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;owner;delete'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;owner;help'= {
            cand list 'List the owners, by id, with their status, keys and limits'
            cand show 'Show an owner''s status, limits and history'
            cand set 'Set an owner''s limits, shared by all its keys (makes the owner when new)'
            cand enable 'Switch an owner on: its keys verify again (as each key''s own status allows)'
            cand disable 'Switch an owner off: every key of it is refused, DISABLED, until enabled'
            cand delete 'Remove an owner without keys (its history stays)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keysmith;owner;help;list'= {
        }
        &'keysmith;owner;help;show'= {
        }
        &'keysmith;owner;help;set'= {
        }
        &'keysmith;owner;help;enable'= {
        }
        &'keysmith;owner;help;disable'= {
        }
        &'keysmith;owner;help;delete'= {
        }
        &'keysmith;owner;help;help'= {
        }
        &'keysmith;scan'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --rules 'Print a rule for this scanner that finds keysmith keys, instead of scanning'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;backup'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand --force 'Replace FILE if it exists'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;migrate'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --to 'The empty store to copy into: a SQLite path or a postgres:// URL'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;completions'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;serve'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --listen 'Where to listen: HOST:PORT, [::1]:PORT or unix:/path (repeatable; default 127.0.0.1:7207)'
            cand --key-header 'The headers a key is read from, in order (repeatable; default Authorization (Bearer), then X-API-Key)'
            cand --flush-interval 'How often counted uses are written to the store, e.g. 1s, 500ms'
            cand --max-connections 'The most connections open at once; more are closed at once'
            cand --tls-cert 'Speak HTTPS on every listener, with this certificate chain (PEM)'
            cand --tls-key 'The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)'
            cand --socket-mode 'The permissions of --listen unix: sockets, in octal (default 0660: the owner and the socket''s group may connect; 0600: the owner only)'
            cand --access-log 'Log one line per request to this file (appended), or to stdout with `-`'
            cand --access-log-format 'How --access-log writes a line: text, or one JSON object'
            cand --trusted-proxy 'A proxy (a gateway) whose /v1/auth requests carry the client''s address in --client-ip-header (repeatable; address or CIDR range)'
            cand --client-ip-header 'The one header a trusted proxy puts the client''s address in, for IP rules: x-forwarded-for (the rightmost untrusted address) or x-real-ip'
            cand --header-timeout 'How long a client may take to send a request''s headers'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand --meta-header 'Add the key''s metadata to /v1/auth''s 200 answers, as JSON in X-Keysmith-Meta (at most 12 KiB: see docs/src/gateways.md for the gateway''s buffer)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;man'= {
            cand --db 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)'
            cand --dir 'Write keysmith.1 and a page per subcommand (keysmith-create.1, ...) into DIR, made if missing, instead of printing one'
            cand --json 'Print JSON on stdout instead of text'
            cand --no-pager 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keysmith;help'= {
            cand create 'Mint a key and print it once (stdout carries the key alone)'
            cand init 'Make an empty store (for a `serve` that has no key yet)'
            cand info 'Say which store is used, why, and what it holds'
            cand list 'List keys, newest first, with the secret masked'
            cand enable 'Switch a key on'
            cand disable 'Switch a key off: verification fails until it is enabled again'
            cand verify 'Check a key: exit 0 when valid, 1 when not (prefer passing it on stdin)'
            cand show 'Show every field of a key and its history'
            cand edit 'Change a key''s name, description, service, expiry, scopes, uses or rate limit'
            cand rotate 'Replace a key with a new one: same name, service and prefix, new secret'
            cand delete 'Remove a key for good (its history stays)'
            cand history 'Show the event log, newest first'
            cand owner 'The owners keys belong to: list, show, set limits, enable, disable, delete'
            cand scan 'Find keysmith keys in files, folders or stdin, and report their state'
            cand backup 'Write a consistent copy of the store to a new file (mode 0600)'
            cand migrate 'Copy every key, its history and links into another, empty store'
            cand completions 'Print a shell completion script'
            cand serve 'Answer verifications over HTTP for API servers and gateways'
            cand man 'Print the manual page, or write every page into a folder'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keysmith;help;create'= {
        }
        &'keysmith;help;init'= {
        }
        &'keysmith;help;info'= {
        }
        &'keysmith;help;list'= {
        }
        &'keysmith;help;enable'= {
        }
        &'keysmith;help;disable'= {
        }
        &'keysmith;help;verify'= {
        }
        &'keysmith;help;show'= {
        }
        &'keysmith;help;edit'= {
        }
        &'keysmith;help;rotate'= {
        }
        &'keysmith;help;delete'= {
        }
        &'keysmith;help;history'= {
        }
        &'keysmith;help;owner'= {
        }
        &'keysmith;help;scan'= {
        }
        &'keysmith;help;backup'= {
        }
        &'keysmith;help;migrate'= {
        }
        &'keysmith;help;completions'= {
        }
        &'keysmith;help;serve'= {
        }
        &'keysmith;help;man'= {
        }
        &'keysmith;help;help'= {
        }
    ]
    $completions[$command]
}
