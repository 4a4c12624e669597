
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'keysmith' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'keysmith'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'keysmith' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Mint a key and print it once (stdout carries the key alone)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Make an empty store (for a `serve` that has no key yet)')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Say which store is used, why, and what it holds')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List keys, newest first, with the secret masked')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Switch a key on')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Switch a key off: verification fails until it is enabled again')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a key: exit 0 when valid, 1 when not (prefer passing it on stdin)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every field of a key and its history')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a key''s name, description, service, expiry, scopes, uses or rate limit')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Replace a key with a new one: same name, service and prefix, new secret')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove a key for good (its history stays)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the event log, newest first')
            [CompletionResult]::new('owner', 'owner', [CompletionResultType]::ParameterValue, 'The owners keys belong to: list, show, set limits, enable, disable, delete')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Find keysmith keys in files, folders or stdin, and report their state')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write a consistent copy of the store to a new file (mode 0600)')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Copy every key, its history and links into another, empty store')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Answer verifications over HTTP for API servers and gateways')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page, or write every page into a folder')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keysmith;create' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'What the key is for (required unless prompted on a terminal)')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'A longer note about the key')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'The service the key belongs to, e.g. sms')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'The key''s prefix')
            [CompletionResult]::new('--expires-in', '--expires-in', [CompletionResultType]::ParameterName, 'Make the key expire after this long, e.g. 30d, 12h, 1d12h')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Grant this scope (repeatable), e.g. sms:send, or sms:* for every sms: scope')
            [CompletionResult]::new('--uses', '--uses', [CompletionResultType]::ParameterName, 'Allow this many VALID verifications, then USAGE_EXCEEDED')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'At most N VALID answers in any DURATION, in each `serve`, e.g. 100/1m')
            [CompletionResult]::new('--refill', '--refill', [CompletionResultType]::ParameterName, 'Give the uses back to --uses N at each period''s start (UTC): daily, weekly, monthly, monthly:DAY, or a duration such as 12h')
            [CompletionResult]::new('--allow-ip', '--allow-ip', [CompletionResultType]::ParameterName, 'Allow the key only from this address or CIDR range (repeatable), e.g. 203.0.113.0/24: IP_NOT_ALLOWED from elsewhere')
            [CompletionResult]::new('--owner', '--owner', [CompletionResultType]::ParameterName, 'The application''s id of the customer the key belongs to, e.g. acme')
            [CompletionResult]::new('--meta', '--meta', [CompletionResultType]::ParameterName, 'A JSON object kept with the key and returned with VALID, at most 4 KiB, e.g. ''{"plan":"pro"}''')
            [CompletionResult]::new('--meta-file', '--meta-file', [CompletionResultType]::ParameterName, 'The metadata from this file (`-`: stdin)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Create one key per line of this JSON Lines file (`-`: stdin), all or nothing; prints one JSON line per key, with the full key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Skip the confirmation prompt (asked only when prompting, without --name)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Skip the confirmation prompt (asked only when prompting, without --name)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Put the key on the clipboard instead of printing it (cleared after $KEYSMITH_CLIP_TIME seconds, 45 by default)')
            [CompletionResult]::new('--copy', '--copy', [CompletionResultType]::ParameterName, 'Put the key on the clipboard instead of printing it (cleared after $KEYSMITH_CLIP_TIME seconds, 45 by default)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;init' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;info' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Only keys of this service')
            [CompletionResult]::new('--owner', '--owner', [CompletionResultType]::ParameterName, 'Only keys of this owner')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only keys with this status')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many keys')
            [CompletionResult]::new('--expiring-within', '--expiring-within', [CompletionResultType]::ParameterName, 'Only keys that expire within this time from now, e.g. 7d')
            [CompletionResult]::new('--unused-for', '--unused-for', [CompletionResultType]::ParameterName, 'Only keys not used for this long (a key never used counts from its creation)')
            [CompletionResult]::new('--search', '--search', [CompletionResultType]::ParameterName, 'Only keys whose name or description contains TEXT (any case)')
            [CompletionResult]::new('--sort', '--sort', [CompletionResultType]::ParameterName, 'The order: created (newest first), name (A to Z), last-used (most recent first) or expires (soonest first); --expiring-within sorts by expires')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit 1 when any key is listed (for cron jobs and alerts)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Add the other fields: description, use count, expiry, replacement, scopes, uses left, rate limit')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the ids, one per line (for xargs)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the ids, one per line (for xargs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;enable' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;disable' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;verify' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Also require the key to belong to this service')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Require this scope of the key (repeatable): INSUFFICIENT_SCOPE unless every one is granted')
            [CompletionResult]::new('--cost', '--cost', [CompletionResultType]::ParameterName, 'Spend this many uses (of the key, and of its owner, when they have a limit); more than are left is USAGE_EXCEEDED and spends nothing')
            [CompletionResult]::new('--ip', '--ip', [CompletionResultType]::ParameterName, 'The client''s address, for keys with IP rules (--allow-ip)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('--stdin-all', '--stdin-all', [CompletionResultType]::ParameterName, 'Check every line of stdin, one result line per input line; exit 0 only if every key is valid')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;edit' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'A new name')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'A new description ("" removes it)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'A new service')
            [CompletionResult]::new('--expires-in', '--expires-in', [CompletionResultType]::ParameterName, 'Expire this long from now, e.g. 30d, 12h, 1d12h')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Grant exactly these scopes (repeatable), replacing the key''s')
            [CompletionResult]::new('--uses', '--uses', [CompletionResultType]::ParameterName, 'Allow this many more VALID verifications from now on')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'A new rate limit, e.g. 100/1m')
            [CompletionResult]::new('--refill', '--refill', [CompletionResultType]::ParameterName, 'Give the uses back to --uses N at each period''s start (UTC): daily, weekly, monthly, monthly:DAY, or a duration such as 12h')
            [CompletionResult]::new('--allow-ip', '--allow-ip', [CompletionResultType]::ParameterName, 'Allow the key only from these addresses or CIDR ranges (repeatable), replacing its rules')
            [CompletionResult]::new('--owner', '--owner', [CompletionResultType]::ParameterName, 'The application''s id of the customer the key belongs to, e.g. acme')
            [CompletionResult]::new('--meta', '--meta', [CompletionResultType]::ParameterName, 'A JSON object kept with the key and returned with VALID, at most 4 KiB, e.g. ''{"plan":"pro"}''')
            [CompletionResult]::new('--meta-file', '--meta-file', [CompletionResultType]::ParameterName, 'The metadata from this file (`-`: stdin)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('--no-service', '--no-service', [CompletionResultType]::ParameterName, 'Take the key out of its service: it then verifies only without --service')
            [CompletionResult]::new('--no-expiry', '--no-expiry', [CompletionResultType]::ParameterName, 'Remove the expiry')
            [CompletionResult]::new('--no-scopes', '--no-scopes', [CompletionResultType]::ParameterName, 'Remove every scope')
            [CompletionResult]::new('--unlimited-uses', '--unlimited-uses', [CompletionResultType]::ParameterName, 'Remove the limit of uses')
            [CompletionResult]::new('--no-rate', '--no-rate', [CompletionResultType]::ParameterName, 'Remove the rate limit')
            [CompletionResult]::new('--no-refill', '--no-refill', [CompletionResultType]::ParameterName, 'Stop refilling the uses')
            [CompletionResult]::new('--no-allow-ip', '--no-allow-ip', [CompletionResultType]::ParameterName, 'Remove every IP rule: any address may use the key')
            [CompletionResult]::new('--no-owner', '--no-owner', [CompletionResultType]::ParameterName, 'Take the key from its owner')
            [CompletionResult]::new('--no-meta', '--no-meta', [CompletionResultType]::ParameterName, 'Remove the metadata')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;rotate' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Keep the old key valid this long (e.g. 24h) instead of disabling it now')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Skip the confirmation prompt (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Skip the confirmation prompt (required without a terminal)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Put the new key on the clipboard instead of printing it (cleared after $KEYSMITH_CLIP_TIME seconds, 45 by default)')
            [CompletionResult]::new('--copy', '--copy', [CompletionResultType]::ParameterName, 'Put the new key on the clipboard instead of printing it (cleared after $KEYSMITH_CLIP_TIME seconds, 45 by default)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;delete' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Skip the confirmation prompt (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Skip the confirmation prompt (required without a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;history' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many events')
            [CompletionResult]::new('--action', '--action', [CompletionResultType]::ParameterName, 'Only events of this action (repeatable): create, enable, disable, edit, rotate, delete')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events of the last DURATION, e.g. 1h, 7d')
            [CompletionResult]::new('--owner', '--owner', [CompletionResultType]::ParameterName, 'Only this owner''s events: its keys'' while they were its')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;owner' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the owners, by id, with their status, keys and limits')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show an owner''s status, limits and history')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set an owner''s limits, shared by all its keys (makes the owner when new)')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Switch an owner on: its keys verify again (as each key''s own status allows)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Switch an owner off: every key of it is refused, DISABLED, until enabled')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove an owner without keys (its history stays)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keysmith;owner;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;owner;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;owner;set' {
            [CompletionResult]::new('--uses', '--uses', [CompletionResultType]::ParameterName, 'Allow its keys this many VALID verifications in all, then USAGE_EXCEEDED')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'At most N VALID answers in any DURATION for all its keys together, e.g. 100/1s')
            [CompletionResult]::new('--refill', '--refill', [CompletionResultType]::ParameterName, 'Give the uses back to --uses N at each period''s start (UTC): daily, weekly, monthly, monthly:DAY, or a duration such as 12h')
            [CompletionResult]::new('--allow-ip', '--allow-ip', [CompletionResultType]::ParameterName, 'Allow its keys only from these addresses or CIDR ranges (repeatable), replacing its rules')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--unlimited-uses', '--unlimited-uses', [CompletionResultType]::ParameterName, 'Remove the limit of uses')
            [CompletionResult]::new('--no-rate', '--no-rate', [CompletionResultType]::ParameterName, 'Remove the rate limit')
            [CompletionResult]::new('--no-refill', '--no-refill', [CompletionResultType]::ParameterName, 'Stop refilling the uses')
            [CompletionResult]::new('--no-allow-ip', '--no-allow-ip', [CompletionResultType]::ParameterName, 'Remove every IP rule of the owner')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;owner;enable' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;owner;disable' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;owner;delete' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;owner;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the owners, by id, with their status, keys and limits')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show an owner''s status, limits and history')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set an owner''s limits, shared by all its keys (makes the owner when new)')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Switch an owner on: its keys verify again (as each key''s own status allows)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Switch an owner off: every key of it is refused, DISABLED, until enabled')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove an owner without keys (its history stays)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keysmith;owner;help;list' {
            break
        }
        'keysmith;owner;help;show' {
            break
        }
        'keysmith;owner;help;set' {
            break
        }
        'keysmith;owner;help;enable' {
            break
        }
        'keysmith;owner;help;disable' {
            break
        }
        'keysmith;owner;help;delete' {
            break
        }
        'keysmith;owner;help;help' {
            break
        }
        'keysmith;scan' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'Print a rule for this scanner that finds keysmith keys, instead of scanning')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;backup' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace FILE if it exists')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;migrate' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The empty store to copy into: a SQLite path or a postgres:// URL')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;completions' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;serve' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Where to listen: HOST:PORT, [::1]:PORT or unix:/path (repeatable; default 127.0.0.1:7207)')
            [CompletionResult]::new('--key-header', '--key-header', [CompletionResultType]::ParameterName, 'The headers a key is read from, in order (repeatable; default Authorization (Bearer), then X-API-Key)')
            [CompletionResult]::new('--flush-interval', '--flush-interval', [CompletionResultType]::ParameterName, 'How often counted uses are written to the store, e.g. 1s, 500ms')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'The most connections open at once; more are closed at once')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Speak HTTPS on every listener, with this certificate chain (PEM)')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--socket-mode', '--socket-mode', [CompletionResultType]::ParameterName, 'The permissions of --listen unix: sockets, in octal (default 0660: the owner and the socket''s group may connect; 0600: the owner only)')
            [CompletionResult]::new('--access-log', '--access-log', [CompletionResultType]::ParameterName, 'Log one line per request to this file (appended), or to stdout with `-`')
            [CompletionResult]::new('--access-log-format', '--access-log-format', [CompletionResultType]::ParameterName, 'How --access-log writes a line: text, or one JSON object')
            [CompletionResult]::new('--trusted-proxy', '--trusted-proxy', [CompletionResultType]::ParameterName, 'A proxy (a gateway) whose /v1/auth requests carry the client''s address in --client-ip-header (repeatable; address or CIDR range)')
            [CompletionResult]::new('--client-ip-header', '--client-ip-header', [CompletionResultType]::ParameterName, 'The one header a trusted proxy puts the client''s address in, for IP rules: x-forwarded-for (the rightmost untrusted address) or x-real-ip')
            [CompletionResult]::new('--header-timeout', '--header-timeout', [CompletionResultType]::ParameterName, 'How long a client may take to send a request''s headers')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('--meta-header', '--meta-header', [CompletionResultType]::ParameterName, 'Add the key''s metadata to /v1/auth''s 200 answers, as JSON in X-Keysmith-Meta (at most 12 KiB: see docs/src/gateways.md for the gateway''s buffer)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;man' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The store: a SQLite file path, or a postgres:// URL for a shared PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write keysmith.1 and a page per subcommand (keysmith-create.1, ...) into DIR, made if missing, instead of printing one')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('--no-pager', '--no-pager', [CompletionResultType]::ParameterName, 'Never page long output at a terminal (default: through $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keysmith;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Mint a key and print it once (stdout carries the key alone)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Make an empty store (for a `serve` that has no key yet)')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Say which store is used, why, and what it holds')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List keys, newest first, with the secret masked')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Switch a key on')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Switch a key off: verification fails until it is enabled again')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a key: exit 0 when valid, 1 when not (prefer passing it on stdin)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every field of a key and its history')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a key''s name, description, service, expiry, scopes, uses or rate limit')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Replace a key with a new one: same name, service and prefix, new secret')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove a key for good (its history stays)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the event log, newest first')
            [CompletionResult]::new('owner', 'owner', [CompletionResultType]::ParameterValue, 'The owners keys belong to: list, show, set limits, enable, disable, delete')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Find keysmith keys in files, folders or stdin, and report their state')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write a consistent copy of the store to a new file (mode 0600)')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Copy every key, its history and links into another, empty store')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Answer verifications over HTTP for API servers and gateways')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page, or write every page into a folder')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keysmith;help;create' {
            break
        }
        'keysmith;help;init' {
            break
        }
        'keysmith;help;info' {
            break
        }
        'keysmith;help;list' {
            break
        }
        'keysmith;help;enable' {
            break
        }
        'keysmith;help;disable' {
            break
        }
        'keysmith;help;verify' {
            break
        }
        'keysmith;help;show' {
            break
        }
        'keysmith;help;edit' {
            break
        }
        'keysmith;help;rotate' {
            break
        }
        'keysmith;help;delete' {
            break
        }
        'keysmith;help;history' {
            break
        }
        'keysmith;help;owner' {
            break
        }
        'keysmith;help;scan' {
            break
        }
        'keysmith;help;backup' {
            break
        }
        'keysmith;help;migrate' {
            break
        }
        'keysmith;help;completions' {
            break
        }
        'keysmith;help;serve' {
            break
        }
        'keysmith;help;man' {
            break
        }
        'keysmith;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
