#!/bin/sh
# flowpush.cgi - CGI wrapper for shared hosting: tells flowpush.fcgi where its config is and runs it as plain CGI.
#
# Copy to ~/public_html/cgi-bin/flowpush.cgi, chmod 755, and set the paths.
# flowpush.fcgi answers as CGI because fd 0 is the request body here, not a
# listening socket.
FLOWPUSH_CONFIG="$HOME/flowpush/flowpush.conf"
export FLOWPUSH_CONFIG
exec "$HOME/flowpush/flowpush.fcgi"
