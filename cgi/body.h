/* body.h - decoding a request body: JSON or an HTML form, by its Content-Type. */
#ifndef FP_BODY_H
#define FP_BODY_H

#include "request.h"

/*
 * body_decode turns rq->body by rq->content_type into rq->json
 * (an object, valid UTF-8, no NUL bytes, no duplicate keys) or rq->form,
 * and applies a form's _method to rq->method when the request is a POST.
 * Problems go to rq->body_err (400 bad_json, 400 bad_form, 415).
 */
void body_decode(struct request *rq);

#endif
