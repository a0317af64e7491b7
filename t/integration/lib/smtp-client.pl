#!/usr/bin/perl
# A small scripted SMTP client for the cases swaks cannot do:
#   - STARTTLS without the second EHLO (swaks always sends it);
#   - AUTH in plaintext and then STARTTLS;
#   - TLS 1.3 ciphersuite selection (swaks' --tls-cipher only reaches
#     SSL_CTX_set_cipher_list, which does not touch TLS 1.3).
# Needs perl, IO::Socket::IP (core) and IO::Socket::SSL (libio-socket-ssl-perl).
#
# Prints the dialogue ("<- " server, " -> " client, "=== " notes) and a last
# line "result=accepted|tempfail|reject|error code=NNN reply=...".
# Exit: 0 mail accepted (or --quit-after reached without error), 4 a 4xx reply,
# 5 a 5xx reply, 2 connection/TLS/protocol error, 1 bad usage.
use strict;
use warnings;
use Getopt::Long qw(:config no_ignore_case);
use IO::Socket::IP;
use IO::Socket::SSL;
use MIME::Base64 qw(encode_base64);

my %o = (server => '127.0.0.1', port => 10025, helo => 'client.example.test',
         from => 'sender@example.net', timeout => 15);
my @to;
GetOptions(\%o, 'server=s', 'port=i', 'local=s', 'helo=s', 'starttls',
    'no-ehlo-after-tls', 'tls-version=s', 'cipher=s', 'ciphersuites=s',
    'cert=s', 'key=s', 'ca=s', 'auth=s', 'user=s', 'password=s',
    'auth-before-tls', 'from=s', 'to=s' => \@to, 'quit-after=s', 'timeout=i',
    'body=s', 'help')
    or exit 1;
if ($o{help}) {
    print <<'EOF';
smtp-client.pl [--server 127.0.0.1] [--port 10025] [--local ADDR] [--helo NAME]
  [--starttls [--no-ehlo-after-tls] [--tls-version TLSv1.2|TLSv1.3]
   [--cipher OPENSSL_CIPHER_LIST] [--ciphersuites TLS13_SUITES]
   [--cert FILE --key FILE] [--ca FILE]]
  [--auth PLAIN|LOGIN --user U --password P [--auth-before-tls]]
  [--from ADDR] [--to ADDR]... [--body TEXT]
  [--quit-after connect|ehlo|tls|auth|mail|rcpt] [--timeout SECS]
EOF
    exit 0;
}
@to = ('bob@example.test') unless @to;
$o{'auth-before-tls'} and !$o{auth} and die "--auth-before-tls needs --auth\n";

$| = 1;
my $sock;

sub finish {
    my ($result, $code, $text) = @_;
    $text //= '';
    $text =~ s/"/\\"/g;
    print qq(result=$result code=$code reply="$text"\n);
    exit($result eq 'accepted' ? 0 : $result eq 'tempfail' ? 4 : $result eq 'reject' ? 5 : 2);
}

sub reply {
    my ($code, @lines);
    while (1) {
        my $l = <$sock>;
        defined $l or finish('error', 0, 'connection closed: ' . ($! || 'EOF'));
        $l =~ s/\r?\n\z//;
        print "<- $l\n";
        push @lines, $l;
        $l =~ /^(\d{3})([ -])/ or finish('error', 0, "malformed reply: $l");
        $code = $1;
        last if $2 eq ' ';
    }
    return ($code, @lines);
}

sub cmd {
    my ($line, $shown) = @_;
    print ' -> ', ($shown // $line), "\n";
    print $sock "$line\r\n";
    return reply();
}

# Send a command; any reply not 2xx/3xx ends the session with that reply.
sub must {
    my ($line, $shown) = @_;
    my ($code, @lines) = cmd($line, $shown);
    if ($code =~ /^[45]/) {
        quit();
        finish($code =~ /^4/ ? 'tempfail' : 'reject', $code, $lines[-1]);
    }
    return ($code, @lines);
}

my @caps;
sub ehlo { my ($c, @l) = must("EHLO $o{helo}"); @caps = map { substr($_, 4) } @l[1 .. $#l]; }
sub has_cap { my $re = shift; return grep { /$re/i } @caps }
sub quit {
    # The server may already have closed (421); a QUIT is best effort.
    print " -> QUIT\n";
    print $sock "QUIT\r\n";
    my $l = <$sock>;
    print "<- $l" if defined $l;
}
sub quit_after {
    return unless ($o{'quit-after'} // '') eq $_[0];
    quit();
    finish('accepted', 0, "quit after $_[0]");
}

sub auth {
    my $m = uc $o{auth};
    my ($u, $p) = ($o{user} // die("--user needed\n"), $o{password} // die("--password needed\n"));
    has_cap(qr/^AUTH\b.*\b\Q$m\E\b/) or finish('error', 0, "AUTH $m not offered");
    if ($m eq 'PLAIN') {
        must('AUTH PLAIN ' . encode_base64("\0$u\0$p", ''), 'AUTH PLAIN <credentials>');
    } elsif ($m eq 'LOGIN') {
        must('AUTH LOGIN');
        must(encode_base64($u, ''), '<user>');
        must(encode_base64($p, ''), '<password>');
    } else {
        die "--auth must be PLAIN or LOGIN\n";
    }
    quit_after('auth');
}

sub starttls {
    has_cap(qr/^STARTTLS\b/) or finish('error', 0, 'STARTTLS not offered');
    must('STARTTLS');
    my %ssl = (SSL_verify_mode => $o{ca} ? SSL_VERIFY_PEER : SSL_VERIFY_NONE);
    $ssl{SSL_ca_file} = $o{ca} if $o{ca};
    $ssl{SSL_verifycn_scheme} = 'none';              # chain only: we dial IPs
    if (my $v = $o{'tls-version'}) {
        $v =~ s/^tlsv?/TLSv/i; $v =~ s/\./_/;          # TLSv1.2 / tlsv1_2 -> TLSv1_2
        $ssl{SSL_version} = $v;
    }
    $ssl{SSL_cipher_list} = $o{cipher} if defined $o{cipher};
    $ssl{SSL_ciphersuites} = $o{ciphersuites} if defined $o{ciphersuites};
    @ssl{qw(SSL_cert_file SSL_key_file)} = ($o{cert}, $o{key} // $o{cert}) if $o{cert};
    IO::Socket::SSL->start_SSL($sock, %ssl)
        or finish('error', 0, "TLS handshake failed: $SSL_ERROR");
    # The same line as swaks prints, so that one parser reads both transcripts:
    # "=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256".
    (my $proto = $sock->get_sslversion) =~ s/_/./;
    printf "=== TLS started with cipher %s:%s:%d\n", $proto, $sock->get_cipher,
        Net::SSLeay::get_cipher_bits($sock->_get_ssl_object, 0);
    quit_after('tls');
}

$sock = IO::Socket::IP->new(PeerHost => $o{server}, PeerPort => $o{port},
    ($o{local} ? (LocalHost => $o{local}) : ()), Timeout => $o{timeout})
    or finish('error', 0, "connect: $@");
$sock->autoflush(1);
printf "=== connected %s -> %s\n", $sock->sockhost, $sock->peerhost;
my ($bc, @bl) = reply();
$bc =~ /^2/ or finish($bc =~ /^4/ ? 'tempfail' : 'reject', $bc, $bl[-1]);
quit_after('connect');

ehlo();
quit_after('ehlo');
auth() if $o{auth} && ($o{'auth-before-tls'} || !$o{starttls});
if ($o{starttls}) {
    starttls();
    if ($o{'no-ehlo-after-tls'}) { print "=== not sending EHLO after STARTTLS\n" } else { ehlo() }
    auth() if $o{auth} && !$o{'auth-before-tls'};
}
must("MAIL FROM:<$o{from}>");
quit_after('mail');
must("RCPT TO:<$_>") for @to;
quit_after('rcpt');
must('DATA');
my $body = $o{body} // "Subject: tlsgate test\r\nFrom: <$o{from}>\r\nTo: <$to[0]>\r\n\r\ntest message\r\n";
$body =~ s/\r?\n/\r\n/g;
$body .= "\r\n" unless $body =~ /\r\n\z/;    # the "." must start a line
$body =~ s/^\./../mg;
print " -> <message, ", length($body), " bytes>\n";
print $sock $body;
my ($code, @l) = must('.');
quit();
finish('accepted', $code, $l[-1]);
