/* socket_cost.c - the kernel's price of one small write to a connected socket, TCP over loopback against a Unix stream socket: the floor under flowpushd's CPU per delivery. */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Usage: socket_cost tcp|unix N ROUNDS
 * Makes N connected pairs; a child process reads every one through epoll
 * while this process writes one 400-byte message to each, ROUNDS times,
 * 10 ms apart (a trickle, as flowpushd sees it). Prints the CPU time of
 * the writer per write. Unlike a socket to a remote host, a loopback write
 * also pays for the receiving side's TCP work, as flowpushd's writes to a
 * local proxy do.
 */

#define MSG_LEN 400

static int tcp_pair(int lfd, const struct sockaddr_in *sa, int *srv, int *cli)
{
	int one = 1;

	*cli = socket(AF_INET, SOCK_STREAM, 0);
	if (*cli < 0 || connect(*cli, (const struct sockaddr *)sa,
		sizeof(*sa)) != 0)
		return -1;
	*srv = accept(lfd, NULL, NULL);
	if (*srv < 0)
		return -1;
	/* As flowpushd sets it on every subscriber socket. */
	setsockopt(*srv, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static void drain(const int *cli, long n, long want)
{
	struct epoll_event ev[256];
	char buf[65536];
	long got = 0, i;
	int ep = epoll_create1(0), k, j;

	for (i = 0; i < n; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.fd = cli[i] };

		epoll_ctl(ep, EPOLL_CTL_ADD, cli[i], &e);
	}
	while (got < want) {
		k = epoll_wait(ep, ev, 256, 2000);
		if (k <= 0)
			break;
		for (j = 0; j < k; j++) {
			ssize_t m = read(ev[j].data.fd, buf, sizeof(buf));

			if (m > 0)
				got += m;
		}
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct rusage a, b;
	char msg[MSG_LEN];
	int *srv, *cli, lfd = -1, unix_pair, result = 1;
	long n, rounds, i, r;
	double us;
	pid_t pid;

	if (argc != 4) {
		fprintf(stderr, "usage: socket_cost tcp|unix N ROUNDS\n");
		return 2;
	}
	unix_pair = strcmp(argv[1], "unix") == 0;
	n = strtol(argv[2], NULL, 10);
	rounds = strtol(argv[3], NULL, 10);
	if (n <= 0 || rounds <= 0)
		return 2;
	srv = calloc((size_t)n, sizeof(*srv));
	cli = calloc((size_t)n, sizeof(*cli));
	if (srv == NULL || cli == NULL)
		goto out;
	if (!unix_pair) {
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
			listen(lfd, 4096) ||
			getsockname(lfd, (struct sockaddr *)&sa, &sl))
			goto out;
	}
	for (i = 0; i < n; i++) {
		int p[2];

		if (unix_pair) {
			if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0)
				goto out;
			srv[i] = p[0];
			cli[i] = p[1];
		} else if (tcp_pair(lfd, &sa, &srv[i], &cli[i])) {
			goto out;
		}
	}
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0)
		drain(cli, n, n * rounds * MSG_LEN);
	memset(msg, 'x', sizeof(msg));
	getrusage(RUSAGE_SELF, &a);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++)
			if (send(srv[i], msg, sizeof(msg), MSG_DONTWAIT) < 0)
				perror("send");
		usleep(10000);
	}
	getrusage(RUSAGE_SELF, &b);
	us = (double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec) * 1e6 +
		(double)(b.ru_utime.tv_usec - a.ru_utime.tv_usec) +
		(double)(b.ru_stime.tv_sec - a.ru_stime.tv_sec) * 1e6 +
		(double)(b.ru_stime.tv_usec - a.ru_stime.tv_usec);
	printf("%s: %.2f us of CPU per %d-byte write\n", argv[1],
		us / ((double)n * (double)rounds), MSG_LEN);
	waitpid(pid, NULL, 0);
	result = 0;
out:
	if (result != 0)
		perror("socket_cost");
	free(srv);
	free(cli);
	return result;
}
