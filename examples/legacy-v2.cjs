// socket.io-client 1.7 / 2.x, as the clients of the original service: npm install socket.io-client@2
var io = require('socket.io-client');

var url = process.env.REALTIME_URL || 'http://localhost:3000';
var tv = io.connect(url + '/layout');
var phone = io.connect(url + '/layout');

tv.on('EVENT', function (event) {
  console.log('tv received EVENT from ' + event.sender + ' in ' + event.room + ': ' + JSON.stringify(event.message));
  tv.close();
  phone.close();
});
tv.emit('JOIN', JSON.stringify({ room: 'living-room', name: 'tv' }), function () {
  phone.emit('JOIN', JSON.stringify({ room: 'living-room', name: 'phone' }), function () {
    phone.emit('NOTIFY', JSON.stringify({ room: 'living-room', message: { layout: 'split' } }));
  });
});
