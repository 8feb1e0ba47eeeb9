docker run -it --rm --name web -e A=1 --network host -p 8080:80 -v /a:/b --pull=always nginx:1.25 nginx -t
docker --context remote container run -d redis
docker image pull -q alpine
